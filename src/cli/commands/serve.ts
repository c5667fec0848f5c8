/**
 * `pulse serve`: the HTTP serving layer. Reads batch views and realtime
 * checkpoints from the view store, answers until SIGTERM/SIGINT, then stops
 * accepting connections and lets requests in flight finish.
 */
import type { Command } from 'commander';
import type { Config } from '../../config/index.js';
import { parseDuration } from '../../config/index.js';
import { layerLogger } from '../../observability/logger.js';
import { buildServer } from '../../serving/index.js';
import { openStore, storeOptionsFrom, type ObjectStore } from '../../storage/index.js';
import { loadCliConfig, type CliContext } from '../context.js';
import { CliError, ExitCode } from '../exit.js';
import { packageVersion } from '../version.js';

interface ServeOptions {
  host?: string;
  port?: string;
  pollInterval?: string;
}

/** Opens a store location of the config with the config's S3 settings. */
export function openConfigStore(config: Config, uri: string): ObjectStore {
  return openStore(uri, storeOptionsFrom(config));
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65535) throw new CliError(`--port: '${text}' is not a TCP port (0–65535)`);
  return port;
}

function parsePollInterval(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : parseDuration(text);
  if (ms === undefined || ms < 10) throw new CliError(`--poll-interval: '${text}' is not a duration of at least 10ms (e.g. 500ms, 1s)`);
  return ms;
}

/** Resolves when the process is asked to stop. */
function stopSignal(): Promise<NodeJS.Signals> {
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

export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('serve the merged batch + realtime views over HTTP (JSON, Arrow IPC, OpenAPI at /docs)')
    .option('--host <host>', 'interface to listen on (default: serving.host)')
    .option('--port <port>', 'TCP port (default: serving.port; 0 picks a free one)')
    .option('--poll-interval <duration>', 'how often the view store is read for new versions (default 1s)')
    .action(async (options: ServeOptions, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const host = options.host ?? config.serving.host;
      const port = options.port === undefined ? config.serving.port : parsePort(options.port);
      const logger = layerLogger('serving');
      const store = openConfigStore(config, config.batch.viewStore);
      const realtimeUri = config.speed?.viewStore;
      const app = await buildServer({
        config,
        store,
        ...(realtimeUri && realtimeUri !== config.batch.viewStore ? { realtimeStore: openConfigStore(config, realtimeUri) } : {}),
        logger,
        version: packageVersion(),
        ...(options.pollInterval === undefined ? {} : { pollIntervalMs: parsePollInterval(options.pollInterval) }),
      });
      const address = await app.listen({ host, port });
      logger.info({ address, store: store.url, views: config.views.map((v) => v.name) }, `serving ${config.views.length} views on ${address} (OpenAPI at ${address}/docs)`);
      const signal = await stopSignal();
      logger.info({ signal }, `${signal}: closing; requests in flight finish first`);
      await app.close();
      ctx.exitCode = ExitCode.Ok;
    });
}
