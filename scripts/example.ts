/**
 * Runs one example pipeline end to end:
 *
 *   npm run example -- <iot|trading|payments|social> [--rate N] [--invalid 0.02] [--seed N] [--reset] [--port N] [--config FILE]
 *
 * 1. writes the example's history (`history` in its generator.ts) into the
 *    local lake its config names (`batch.source`), unless a history is there;
 * 2. starts `pulse up --config examples/<name>/pulse.config.yaml` as a child
 *    process (batch, speed and serving layers in one process);
 * 3. appends live events, with the given share of invalid lines, to the
 *    NDJSON file the speed layer follows (`speed.source.path`) until the
 *    child exits. On SIGINT or SIGTERM it stops appending and passes the
 *    signal on, so the speed layer drains every line written.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../src/config/index.js';
import { EXAMPLE_NAMES, isExampleName, type ExampleName } from '../examples/shared/generator.js';
import { generatorOf } from '../examples/shared/registry.js';
import { hasHistory, writeHistory } from '../examples/shared/history.js';
import { LiveAppender } from '../examples/shared/live.js';
import { seededRng } from '../examples/shared/random.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: npm run example -- <${EXAMPLE_NAMES.join('|')}> [options]

  --rate N        live events per second (default 20)
  --invalid P     share of invalid live and history lines, 0..1 (default 0.02)
  --seed N        seed of the history and live generators (default 1)
  --reset         delete the example's .data/ folder first (lake, views, live file)
  --port N        HTTP port of the serving layer (default: the config's, 8080)
  --config FILE   run this config instead of examples/<name>/pulse.config.yaml
                  (a changed copy; its .data/ is next to it)
  -h, --help      this text`;

interface Options {
  name: ExampleName;
  rate: number;
  invalid: number;
  seed: number;
  reset: boolean;
  port: number | undefined;
  config: string | undefined;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | undefined {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rate: { type: 'string', default: '20' },
      invalid: { type: 'string', default: '0.02' },
      seed: { type: 'string', default: '1' },
      reset: { type: 'boolean', default: false },
      port: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const [name, ...extra] = positionals;
  if (name === undefined) throw new UsageError('name an example');
  if (!isExampleName(name)) throw new UsageError(`unknown example '${name}': use one of ${EXAMPLE_NAMES.join(', ')}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const rate = Number(values.rate);
  if (!(Number.isFinite(rate) && rate > 0 && rate <= 100_000)) throw new UsageError(`--rate must be a number of events per second in (0, 100000], got '${values.rate}'`);
  const invalid = Number(values.invalid);
  if (!(Number.isFinite(invalid) && invalid >= 0 && invalid <= 1)) throw new UsageError(`--invalid must be a share between 0 and 1, got '${values.invalid}'`);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) throw new UsageError(`--port must be a TCP port, got '${values.port}'`);
  return { name, rate, invalid, seed, reset: values.reset, port, config: values.config };
}

/** The local folder of a location (`file://` URI or path); the examples keep their lake on disk. */
function localDir(location: string, what: string): string {
  if (location.startsWith('file://')) return fileURLToPath(location);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new Error(`${what} is ${location}: the example runner writes to a local folder only`);
  return location;
}

function liveFile(config: Config): string {
  const source = config.speed?.source;
  if (source?.type !== 'file') throw new Error(`the example's speed source must be { type: file, path }, got ${source?.type ?? 'none'}`);
  return source.path;
}

function log(message: string): void {
  process.stderr.write(`[example] ${message}\n`);
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const configFile = resolve(options.config ?? join(repoRoot, 'examples', options.name, 'pulse.config.yaml'));
  const { config } = await loadConfig({ file: configFile });
  const lake = localDir(config.batch.source, 'batch.source');
  const live = liveFile(config);
  const gen = generatorOf(options.name);
  const show = (p: string) => (relative(repoRoot, p).startsWith('..') ? p : relative(repoRoot, p));

  if (options.reset) {
    const data = join(dirname(configFile), '.data');
    await rm(data, { recursive: true, force: true });
    log(`removed ${show(data)}`);
  }

  if (await hasHistory(lake)) {
    log(`history already in ${show(lake)} (use --reset to write it again)`);
  } else {
    const report = await writeHistory({ lakeDir: lake, gen, rng: seededRng(options.seed), endMs: Date.now(), invalidShare: options.invalid });
    log(
      `history: ${report.lines} lines (${report.invalid} invalid) from ${new Date(report.fromMs).toISOString()} to ${new Date(report.toMs).toISOString()} in ${report.files.length} objects under ${show(lake)}`,
    );
  }

  const cli = join(repoRoot, 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) {
    log(`${show(cli)} is missing: build first with \`npm run build\``);
    return 1;
  }

  // The live file exists before the speed layer opens it.
  const appender = await LiveAppender.open({
    file: live,
    gen,
    // Live draws use their own stream, so the history stays the same whatever the live rate.
    rng: seededRng(options.seed + 1),
    ratePerSecond: options.rate,
    invalidShare: options.invalid,
    onError: (e) => log(`appending to ${show(live)} failed: ${e.message}`),
  });

  const args = [cli, 'up', '--config', show(configFile), ...(options.port === undefined ? [] : ['--port', String(options.port)])];
  // In its own process group, so a Ctrl-C reaches it once (forwarded below), not twice.
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit', detached: true });
  const killOnExit = () => child.kill('SIGTERM');
  process.on('exit', killOnExit);
  // Appending stops before the signal is passed on, so the speed layer drains every line written.
  const forward = (signal: NodeJS.Signals) => () => {
    void appender.stop().finally(() => child.kill(signal));
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  appender.start();
  log(`appending ${options.rate} events/s (${options.invalid * 100} % invalid) to ${show(live)}; Ctrl-C stops`);

  const code = await new Promise<number>((resolve) => {
    child.on('error', (e) => {
      log(`cannot start pulse up: ${e.message}`);
      resolve(1);
    });
    child.on('exit', (status, signal) => resolve(status ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
  await appender.stop();
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  process.off('exit', killOnExit);
  const { draws, lines, invalid } = appender.counts;
  log(`pulse up exited (${code}); appended ${draws} draws as ${lines} lines, ${invalid} invalid`);
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // A config problem is a message for people; anything else keeps its stack.
    process.stderr.write(`${e instanceof ConfigError ? e.message : ((e as Error).stack ?? String(e))}\n`);
    process.exitCode = 1;
  },
);
