/**
 * `pulse batch schedule`: stays up and starts a run on every tick of the
 * config's cron (croner). Runs never overlap: a tick that comes while a run
 * is still going is skipped and logged. Aborting the signal (SIGTERM) stops
 * the schedule after the current run.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { RunResult } from './run.js';

export interface ScheduleOptions {
  cron: string;
  /** IANA time zone the cron is read in (default: the process's). */
  timezone?: string;
  log: Logger;
  /** One run; resolves with its result (the schedule keeps going whatever it was). */
  runOnce: () => Promise<RunResult>;
  signal?: AbortSignal;
  onRunEnd?: (result: RunResult) => void;
  onSkip?: () => void;
}

export interface ScheduleSummary {
  runs: number;
  skipped: number;
  lastResult?: RunResult;
}

/** Runs on the cron until the signal aborts; resolves after the run in progress then has ended. */
export async function runSchedule(options: ScheduleOptions): Promise<ScheduleSummary> {
  const { log } = options;
  const summary: ScheduleSummary = { runs: 0, skipped: 0 };
  /** The run in progress, if any. */
  let running: Promise<void> | undefined;
  const job = new Cron(
    options.cron,
    {
      ...(options.timezone ? { timezone: options.timezone } : {}),
      protect: () => {
        summary.skipped++;
        log.warn({ next: job.nextRun()?.toISOString() }, 'batch run still in progress; skipping this tick');
        options.onSkip?.();
      },
      catch: (err) => log.error({ err }, 'scheduled batch run threw'),
    },
    async () => {
      log.info({ cron: options.cron }, 'scheduled batch run starting');
      const run = options.runOnce().then((result) => {
        summary.runs++;
        summary.lastResult = result;
        log.info({ runId: result.runId, status: result.status, exitCode: result.exitCode, next: job.nextRun()?.toISOString() }, 'scheduled batch run ended');
        options.onRunEnd?.(result);
      });
      running = run;
      try {
        await run;
      } finally {
        if (running === run) running = undefined;
      }
    },
  );
  log.info({ cron: options.cron, next: job.nextRun()?.toISOString() }, 'batch schedule started');
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    else options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  job.stop();
  if (running) {
    log.info('stopping: waiting for the current batch run to end');
    await running.catch(() => {});
  }
  log.info({ runs: summary.runs, skipped: summary.skipped }, 'batch schedule stopped');
  return summary;
}
