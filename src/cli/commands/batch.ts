/** `pulse batch run|merge|schedule`: the batch layer from the command line. */
import { Option, type Command } from 'commander';
import { batchJobFromConfig } from '../../batch/from-config.js';
import { isRunId, newRunId } from '../../batch/ids.js';
import { parseShard, partitionProblem, type PartitionRange, type Shard } from '../../batch/inputs.js';
import type { BatchProgress } from '../../batch/progress.js';
import { RunFailure, runBatch, type RunResult } from '../../batch/run.js';
import { runSchedule } from '../../batch/schedule.js';
import { mergeShards, runShard } from '../../batch/shard.js';
import { auditKey } from '../../batch/events.js';
import { layerLogger } from '../../observability/logger.js';
import { createProgress, type ProgressReporter } from '../../observability/progress.js';
import { loadCliConfig, type CliContext } from '../context.js';
import { CliError } from '../exit.js';

interface RunFlags {
  keepVersions?: string;
  from?: string;
  to?: string;
  shard?: string;
  runId?: string;
  concurrency?: string;
  progress?: boolean;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got '${text}'`);
  return n;
}

function partitions(flags: RunFlags): PartitionRange {
  for (const v of [flags.from, flags.to]) {
    const problem = v === undefined ? undefined : partitionProblem(v);
    if (problem) throw new CliError(problem);
  }
  if (flags.from && flags.to && flags.from.slice(0, 10) > flags.to.slice(0, 10)) throw new CliError(`--from ${flags.from} is after --to ${flags.to}`);
  return { ...(flags.from ? { from: flags.from } : {}), ...(flags.to ? { to: flags.to } : {}) };
}

function shardFlag(text: string): Shard {
  try {
    return parseShard(text);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Feeds a progress reporter (bar on a terminal, log lines elsewhere) from a run. */
export function batchProgress(reporter: ProgressReporter): BatchProgress {
  return {
    start: (objects, bytes) => reporter.start({ items: objects, bytes }),
    objectDone: () => reporter.update({ items: 1 }),
    bytes: (n) => reporter.update({ bytes: n }),
    records: (n) => reporter.update({ rows: n }),
    rejects: (n) => reporter.update({ rejects: n }),
    stop: () => void reporter.stop(),
  };
}

/** One line for the operator: what happened and where the audit report is. */
export function describeResult(result: RunResult, viewStore: string): string {
  const a = result.audit;
  const parts = [`batch run ${result.runId}: ${result.status} (exit ${result.exitCode})`];
  if (a) {
    parts.push(`${a.totals.objectsDone}/${a.totals.objects} objects, ${a.totals.records} records, ${a.totals.rejected} rejected`);
    if (a.published.length) parts.push(`published ${a.published.map((p) => p.view).join(', ')} version ${a.version}`);
    parts.push(`audit ${viewStore.replace(/\/+$/, '')}/${auditKey(result.runId)}`);
  }
  if (result.message) parts.push(result.message);
  return parts.join('; ');
}

export function registerBatchCommands(program: Command, ctx: CliContext): void {
  const batch = program.command('batch').description('the batch layer: recompute every view from the master dataset and publish a new version');

  batch
    .command('run')
    .description('one batch run (exit 0 success, 1 partial: some objects could not be read, 2 failure, 3 internal error)')
    .option('--from <partition>', 'first date/hour partition to read (YYYY-MM-DD or YYYY-MM-DDTHH, UTC, inclusive)')
    .option('--to <partition>', 'last date/hour partition to read (inclusive)')
    .option('--shard <i/n>', 'process only shard i of n (objects whose position mod n is i) and write partial states; publish with `pulse batch merge`')
    .option('--run-id <id>', 'run id (required with --shard: every shard of a run shares it); default a fresh one')
    .option('--concurrency <n>', 'objects processed at once (default batch.concurrency)')
    .option('--keep-versions <n>', 'keep this many batch versions per view (the new one included), deleting older snapshots; default keep all')
    .addOption(new Option('--no-progress', 'no progress bar or progress log lines'))
    .action(async (flags: RunFlags, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const job = batchJobFromConfig(config, flags.concurrency ? { concurrency: positiveInt(flags.concurrency, '--concurrency') } : {});
      const range = partitions(flags);
      if (flags.runId !== undefined && !isRunId(flags.runId)) throw new CliError(`invalid --run-id '${flags.runId}': use <YYYYMMDDTHHMMSSZ>-<hex>, e.g. ${newRunId()}`);
      const log = layerLogger('batch');
      const runId = flags.runId ?? newRunId();
      const bar = flags.progress !== false && process.stderr.isTTY === true;
      const progress = flags.progress === false ? undefined : batchProgress(createProgress({ label: `batch run ${runId}`, logger: log, tty: bar }));
      const objectEventLevel = bar ? ('debug' as const) : ('info' as const);
      const stop = new AbortController();
      const onSignal = () => stop.abort(new RunFailure('failed', 'interrupted by a signal; nothing published'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        let result: RunResult;
        if (flags.shard !== undefined) {
          if (flags.runId === undefined) throw new CliError('--shard needs --run-id: every shard of one run must share it');
          result = await runShard(job, { log, runId, shard: shardFlag(flags.shard), partitions: range, ...(progress ? { progress } : {}), signal: stop.signal, objectEventLevel });
        } else {
          const keep = flags.keepVersions === undefined ? {} : { keepVersions: positiveInt(flags.keepVersions, '--keep-versions') };
          result = await runBatch(job, { log, runId, partitions: range, ...(progress ? { progress } : {}), signal: stop.signal, objectEventLevel, ...keep });
        }
        ctx.io.stdout(`${describeResult(result, job.viewStore)}\n`);
        ctx.exitCode = result.exitCode;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  batch
    .command('merge')
    .description('merge the partial states of every shard of a run and publish them')
    .requiredOption('--run <id>', 'the run id the shards ran with')
    .option('--keep-versions <n>', 'keep this many batch versions per view (the new one included), deleting older snapshots')
    .action(async (flags: { run: string; keepVersions?: string }, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const job = batchJobFromConfig(config);
      const keep = flags.keepVersions === undefined ? {} : { keepVersions: positiveInt(flags.keepVersions, '--keep-versions') };
      const result = await mergeShards(job, { log: layerLogger('batch'), runId: flags.run, ...keep });
      ctx.io.stdout(`${describeResult(result, job.viewStore)}\n`);
      ctx.exitCode = result.exitCode;
    });

  batch
    .command('schedule')
    .description("stay up and run on the config's cron (batch.schedule); never overlaps runs; SIGTERM stops after the current run")
    .option('--cron <expr>', 'cron expression instead of batch.schedule')
    .option('--timezone <tz>', 'IANA time zone the cron is read in (default: the local one)')
    .option('--keep-versions <n>', 'keep this many batch versions per view after each run; default keep all')
    .action(async (flags: { cron?: string; timezone?: string; keepVersions?: string }, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const job = batchJobFromConfig(config);
      const log = layerLogger('batch');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const summary = await runSchedule({
          cron: flags.cron ?? config.batch.schedule,
          ...(flags.timezone ? { timezone: flags.timezone } : {}),
          log,
          signal: stop.signal,
          runOnce: () => runBatch(job, { log, ...(flags.keepVersions === undefined ? {} : { keepVersions: positiveInt(flags.keepVersions, '--keep-versions') }) }),
        });
        ctx.exitCode = summary.lastResult?.exitCode ?? 0;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
