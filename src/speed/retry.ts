/**
 * Retrying a step the speed layer cannot skip (producing dead letters,
 * reading a checkpoint) while the broker or the store is briefly away:
 * exponential backoff with jitter, until it succeeds or the caller gives up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SpeedLogger } from './ports.js';

export interface RetryOptions {
  what: string;
  logger: SpeedLogger;
  /** Checked before each new attempt: when it returns true, the last error is thrown. */
  giveUp: () => boolean;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export async function retrying<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  let delay = options.initialDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (options.giveUp()) throw err;
      options.logger.warn({ attempt, err: (err as Error).message, retryInMs: delay }, `${options.what} failed; retrying`);
      await sleep(delay * (0.5 + Math.random() / 2));
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}
