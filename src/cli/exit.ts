/**
 * Exit codes of every `pulse` command, in one place, and how an error maps
 * to one. Scripts and schedulers (cron, Airflow, Kubernetes Jobs) branch on
 * these.
 */
import { CommanderError } from 'commander';
import { ConfigError, formatIssue } from '../config/issues.js';

export const ExitCode = {
  /** Everything worked. */
  Ok: 0,
  /** Some of the work failed (e.g. some objects of a batch run); the rest is done. */
  Partial: 1,
  /** Bad input: an invalid config, a wrong argument, a missing file. */
  Failure: 2,
  /** A bug or an unexpected condition inside PulseStream. */
  Internal: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure with a message for the user (no stack trace) and its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failure,
  ) {
    super(message);
  }
}

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof ConfigError) return ExitCode.Failure;
  // Commander has already printed its message (usage error, --help, --version).
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Failure;
  return ExitCode.Internal;
}

/**
 * What to print for an error: every problem of a config, one line for a user
 * error, one line for an internal error (with the stack only when debugging).
 * Commander errors print themselves, so they get nothing here.
 */
export function describeError(err: unknown, debug: boolean): string | undefined {
  if (err instanceof CommanderError) return undefined;
  if (err instanceof ConfigError) {
    const where = err.file ?? 'config';
    return err.issues.map((i) => `${where}: ${formatIssue(i)}`).join('\n');
  }
  if (err instanceof CliError) return `pulse: ${err.message}`;
  const e = err instanceof Error ? err : new Error(String(err));
  const line = `pulse: internal error: ${e.message.split('\n')[0] ?? ''}`;
  return debug && e.stack ? `${line}\n${e.stack}` : `${line} (run with --log-level debug for the stack trace)`;
}
