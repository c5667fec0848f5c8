/**
 * What every command gets: where to write, the global options, and the
 * config (loaded on demand, because `--help` must work without one).
 */
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';

/** The process's streams and surroundings, replaceable in tests. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

export const processIO: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
};

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

/** Shared by the commands of one invocation. */
export interface CliContext {
  io: CliIO;
  /** The exit code the invocation ends with unless an error decides otherwise. */
  exitCode: number;
  /** Whether stack traces are shown (log level debug or trace). */
  debug: boolean;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** Loads the config named by `--config`, else found in the working directory, else the embedded defaults. */
export function loadCliConfig(ctx: CliContext, command: Command): Promise<LoadedConfig> {
  return loadConfig({ file: globalOptions(command).config, cwd: ctx.io.cwd, env: ctx.io.env });
}
