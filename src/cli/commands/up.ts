/**
 * `pulse up`: the whole Lambda in one process, the quick start. On the
 * embedded defaults it seeds some history into an empty local lake, runs
 * one batch, starts the speed layer on the built-in generator, and serves
 * the merged views on 127.0.0.1:8080. With Kafka and S3 in the config, the
 * same command runs against them (and seeds nothing). SIGTERM/SIGINT stop
 * serving, drain and checkpoint the speed layer, and exit 0.
 */
import type { Command } from 'commander';
import type { Config } from '../../config/index.js';
import { parseDuration } from '../../config/index.js';
import { Pipeline, type PipelineSpec } from '../../core/pipeline.js';
import { runBatch } from '../../batch/index.js';
import { batchJobFromConfig, storeOptionsFrom } from '../../batch/from-config.js';
import { layerLogger } from '../../observability/logger.js';
import { buildServer } from '../../serving/index.js';
import { createSpeedWorker } from '../../speed/runtime.js';
import { seedHistory } from '../../speed/seed.js';
import { openStore } from '../../storage/index.js';
import { loadCliConfig, type CliContext } from '../context.js';
import { CliError, ExitCode } from '../exit.js';
import { packageVersion } from '../version.js';

interface UpOptions {
  history: string;
  rate: string;
  seed: boolean;
  port?: string;
}

function stopRequested(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/** The URLs a new user opens first. */
function welcome(config: Config, base: string): string {
  const view = config.views[0]?.name;
  const lines = [
    '',
    `PulseStream is up: batch, speed and serving layers in one process.`,
    `  views        ${base}/v1/views`,
    ...(view ? [`  a view       ${base}/v1/views/${view}`, `  freshness    ${base}/v1/views/${view}/freshness`] : []),
    `  API docs     ${base}/docs`,
    `  metrics      ${base}/metrics`,
    ...(view ? ['', `  curl -s '${base}/v1/views/${view}?from=${new Date(Date.now() - 3_600_000).toISOString()}' | head -c 600`] : []),
    '',
    'Ctrl-C stops it (the speed layer checkpoints first).',
    '',
  ];
  return lines.join('\n');
}

export function registerUpCommand(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('run the batch, speed and serving layers in one process (the quick start)')
    .option('--history <duration>', 'event history to seed into an empty local lake (generator source only)', '2h')
    .option('--rate <events/s>', 'event rate of the seeded history', '20')
    .option('--no-seed', 'do not seed history')
    .option('--port <port>', 'HTTP port (default: serving.port)')
    .action(async (options: UpOptions, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const log = layerLogger('cli', { command: 'up' });
      const stores = storeOptionsFrom(config);
      const historyMs = parseDuration(options.history);
      const rate = Number(options.rate);
      if (historyMs === undefined || historyMs < 0) throw new CliError(`--history: '${options.history}' is not a duration (e.g. 30m, 2h)`);
      if (!(rate > 0)) throw new CliError(`--rate: '${options.rate}' is not a positive number of events per second`);
      const port = options.port === undefined ? config.serving.port : Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port: '${options.port}' is not a TCP port`);

      if (options.seed && config.speed?.source.type === 'generator') {
        const seeded = await seedHistory(openStore(config.batch.source, stores), { historyMs, eventsPerSecond: rate, now: Date.now() });
        if (seeded.objects > 0) log.info(seeded, 'seeded history into the lake');
      }

      const batch = await runBatch(batchJobFromConfig(config), { log: layerLogger('batch') });
      if (batch.exitCode >= ExitCode.Failure) throw new CliError(`the first batch run failed: ${batch.message ?? batch.status}`, batch.exitCode);
      log.info({ runId: batch.runId, status: batch.status }, 'batch views published');

      const worker = config.speed
        ? createSpeedWorker({
            config,
            mode: 'speed',
            openStore: (uri) => openStore(uri, stores),
            createPipeline: (spec) => Pipeline.create(spec as PipelineSpec),
            logger: layerLogger('speed'),
          })
        : undefined;
      const speedStopped = worker?.run();
      speedStopped?.catch((err: unknown) => log.error({ err }, 'the speed layer stopped'));

      const server = await buildServer({
        config,
        store: openStore(config.batch.viewStore, stores),
        ...(config.speed && config.speed.viewStore !== config.batch.viewStore ? { realtimeStore: openStore(config.speed.viewStore, stores) } : {}),
        logger: layerLogger('serving'),
        version: packageVersion(),
      });
      const address = await server.listen({ host: config.serving.host, port });
      ctx.io.stdout(welcome(config, address.replace('[::1]', 'localhost')));

      const signal = await stopRequested();
      log.info({ signal }, 'stopping');
      await server.close();
      if (worker) {
        await worker.stop();
        await speedStopped?.catch(() => undefined);
      }
      ctx.exitCode = ExitCode.Ok;
    });
}
