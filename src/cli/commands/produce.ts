/**
 * `pulse produce`: a load generator writing demo readings (with a share of
 * invalid ones) to the config's Kafka topic, as realistic trickles, at a
 * fixed rate, or as fast as the broker takes them.
 */
import type { Command } from 'commander';
import { parseDuration } from '../../config/duration.js';
import { layerLogger } from '../../observability/logger.js';
import { createProgress } from '../../observability/progress.js';
import type { ProduceMode } from '../../speed/produce.js';
import { DEFAULT_TRICKLES, produce } from '../../speed/produce.js';
import { loadCliConfig, type CliContext } from '../context.js';
import { CliError, ExitCode } from '../exit.js';

interface ProduceCommandOptions {
  rate?: string;
  max?: boolean;
  trickle?: boolean;
  count?: string;
  duration?: string;
  invalidShare: string;
  topic?: string;
  brokers?: string;
  seed?: string;
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${name}: expected a positive number, got '${text}'`);
  return n;
}

export function registerProduceCommand(program: Command, ctx: CliContext): void {
  program
    .command('produce')
    .description('write demo events (valid and invalid) to the Kafka topic: trickles (default), --rate N per second, or --max')
    .option('--trickle', 'two producers: 1–10 records every 0.5 s and 5–20 every 1 s (default)')
    .option('--rate <eventsPerSecond>', 'a steady rate')
    .option('--max', 'as fast as the broker acknowledges')
    .option('--count <n>', 'stop after n events')
    .option('--duration <duration>', 'stop after this long (e.g. 30s, 5m)')
    .option('--invalid-share <share>', 'share of invalid events, 0..1', '0.05')
    .option('--topic <topic>', 'topic (default: speed.source.topic)')
    .option('--brokers <list>', 'comma-separated brokers (default: speed.source.brokers)')
    .option('--seed <n>', 'seed for reproducible events')
    .action(async (options: ProduceCommandOptions, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const src = config.speed?.source;
      const kafka = src?.type === 'kafka' ? src : undefined;
      const topic = options.topic ?? kafka?.topic;
      const brokers = options.brokers?.split(',').filter(Boolean) ?? kafka?.brokers;
      if (!topic || !brokers || brokers.length === 0) {
        throw new CliError('no Kafka topic to write to: configure speed.source (type kafka) or pass --topic and --brokers');
      }
      const picked = [options.rate !== undefined, options.max === true, options.trickle === true].filter(Boolean).length;
      if (picked > 1) throw new CliError('choose one of --trickle, --rate and --max');
      const mode: ProduceMode =
        options.rate !== undefined
          ? { kind: 'rate', eventsPerSecond: positive('--rate', options.rate) }
          : options.max
            ? { kind: 'max' }
            : { kind: 'trickle', trickles: DEFAULT_TRICKLES };
      const invalidShare = Number(options.invalidShare);
      if (!(invalidShare >= 0 && invalidShare <= 1)) throw new CliError(`--invalid-share: expected a number within 0..1, got '${options.invalidShare}'`);
      const durationMs = options.duration === undefined ? undefined : parseDuration(options.duration);
      if (options.duration !== undefined && durationMs === undefined) {
        throw new CliError(`--duration: expected <integer><ms|s|m|h|d> such as 30s or 5m, got '${options.duration}'`);
      }
      const logger = layerLogger('speed', { tool: 'produce' });
      const progress = createProgress({ label: `produce → ${topic}`, logger });
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      progress.start(options.count ? { items: positive('--count', options.count) } : {});
      try {
        const report = await produce({
          brokers,
          topic,
          mode,
          invalidShare,
          signal: abort.signal,
          logger,
          ...(options.count ? { count: positive('--count', options.count) } : {}),
          ...(durationMs !== undefined ? { durationMs } : {}),
          ...(options.seed ? { seed: Number(options.seed) } : {}),
          onSent: (records) => progress.update({ items: records.length, rows: records.length, rejects: records.filter((r) => r.kind !== 'valid').length }),
        });
        ctx.io.stdout(`${JSON.stringify(report)}\n`);
      } finally {
        progress.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      ctx.exitCode = ExitCode.Ok;
    });
}
