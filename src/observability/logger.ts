/**
 * Process-wide structured logging (pino). JSON lines on stdout when it is not
 * a terminal (log shippers, CI); a compact coloured line per event on a
 * terminal. Each layer logs through a child logger tagged `layer`.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The parts of PulseStream that log, one child logger each. */
export type Layer = 'cli' | 'config' | 'core' | 'batch' | 'speed' | 'serving' | 'storage';

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * The level to log at: the explicit one (`--log-level`), else
 * `PULSE_LOG_LEVEL`, else `info`. An unknown level is an error, not a silent
 * fallback.
 */
export function resolveLogLevel(explicit?: string, env: Readonly<Record<string, string | undefined>> = process.env): LogLevel {
  const [source, value] = explicit !== undefined ? ['--log-level', explicit] : ['PULSE_LOG_LEVEL', env.PULSE_LOG_LEVEL];
  if (value === undefined || value === '') return 'info';
  const level = value.toLowerCase();
  if (!isLogLevel(level)) throw new RangeError(`${source}: unknown log level '${value}' (expected one of ${LOG_LEVELS.join(', ')})`);
  return level;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where JSON lines go (default stdout); given a destination, output is always JSON. */
  destination?: DestinationStream;
  /** Human format; default: when stdout is a terminal and no destination is given. */
  pretty?: boolean;
}

/** A new root logger; most code wants `layerLogger()` instead. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const usePretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const base = { name: 'pulse' };
  if (usePretty) {
    const stream = pretty({
      colorize: true,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,name,layer',
      messageFormat: '{if layer}[{layer}] {end}{msg}',
      singleLine: true,
    });
    return pino({ level, base }, stream);
  }
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

let root: Logger | undefined;

/**
 * Replaces the process's root logger; the CLI calls this once, before any
 * command runs. Child loggers made earlier keep the old settings, so layers
 * ask for theirs when they start, not at import time.
 */
export function configureLogger(options: LoggerOptions = {}): Logger {
  root = createLogger(options);
  return root;
}

/** The process's root logger (created on first use with the level from `PULSE_LOG_LEVEL`). */
export function rootLogger(): Logger {
  root ??= createLogger({ level: resolveLogLevel(undefined) });
  return root;
}

/** A child of the root logger whose every line carries `layer`. */
export function layerLogger(layer: Layer, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ layer, ...bindings });
}
