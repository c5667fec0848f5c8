/**
 * `pulse speed start` (the speed layer: views, dead letters, archive) and
 * `pulse speed archive` (the archiver alone, in its own consumer group).
 * Both run until SIGTERM or SIGINT, which drain the current micro-batch,
 * checkpoint, commit and leave the group (exit 0).
 */
import type { Command } from 'commander';
import { Pipeline, type PipelineSpec } from '../../core/pipeline.js';
import { layerLogger } from '../../observability/logger.js';
import { createProgress } from '../../observability/progress.js';
import { createSpeedWorker } from '../../speed/runtime.js';
import type { SpeedWorker } from '../../speed/worker.js';
import { openStore, storeOptionsFrom } from '../../storage/index.js';
import { loadCliConfig, type CliContext } from '../context.js';
import { CliError, ExitCode } from '../exit.js';

interface SpeedCommandOptions {
  archive?: boolean;
  group?: string;
}

/** Runs a worker until a signal stops it; progress shows what it applied and rejected. */
export async function runUntilSignalled(worker: SpeedWorker, label: string): Promise<void> {
  const logger = layerLogger('speed');
  const progress = createProgress({ label, logger });
  progress.start();
  let seen = { applied: 0, rejected: 0, messages: 0 };
  const ticker = setInterval(() => {
    const c = worker.counts;
    progress.update({ items: c.messages - seen.messages, rows: c.applied - seen.applied, rejects: c.rejected - seen.rejected });
    seen = { applied: c.applied, rejected: c.rejected, messages: c.messages };
  }, 1_000);
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stop requested');
    void worker.stop();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await worker.run();
  } finally {
    clearInterval(ticker);
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    progress.stop();
  }
}

async function start(ctx: CliContext, command: Command, mode: 'speed' | 'archive', options: SpeedCommandOptions): Promise<void> {
  const { config } = await loadCliConfig(ctx, command);
  if (!config.speed) throw new CliError('the config has no speed section (see docs/speed.md)');
  const opened = storeOptionsFrom(config);
  const worker = createSpeedWorker({
    config,
    mode,
    archive: options.archive !== false,
    ...(options.group ? { group: options.group } : {}),
    openStore: (uri) => openStore(uri, opened),
    createPipeline: (spec) => Pipeline.create(spec as PipelineSpec),
    logger: layerLogger('speed', { mode }),
  });
  try {
    await runUntilSignalled(worker, mode === 'speed' ? 'speed layer' : 'archiver');
  } catch (err) {
    throw new CliError(`speed layer stopped: ${(err as Error).message}`, ExitCode.Internal);
  }
  ctx.exitCode = ExitCode.Ok;
}

export function registerSpeedCommands(program: Command, ctx: CliContext): void {
  const speed = program.command('speed').description('the speed layer: realtime views from the stream, with the archiver');

  speed
    .command('start')
    .description('consume the stream into realtime views; SIGTERM drains, checkpoints and leaves the group')
    .option('--no-archive', 'do not archive raw messages here (run `pulse speed archive` separately)')
    .option('--group <id>', 'consumer group (default: speed.source.group)')
    .action(async (options: SpeedCommandOptions, command: Command) => start(ctx, command, 'speed', options));

  speed
    .command('archive')
    .description('archive raw messages to the master dataset only, in its own consumer group (default <group>-archive)')
    .option('--group <id>', 'consumer group (default: speed.source.group + "-archive")')
    .action(async (options: SpeedCommandOptions, command: Command) => start(ctx, command, 'archive', options));
}
