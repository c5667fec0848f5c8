/**
 * The `pulse` program: global options, the command groups, and the one
 * place where errors become messages and exit codes.
 */
import { Command, Option } from 'commander';
import { LOG_LEVELS, configureLogger, resolveLogLevel } from '../observability/logger.js';
import { registerBatchCommands } from './commands/batch.js';
import { registerConfigCommands } from './commands/config.js';
import { registerRulesCommands } from './commands/rules.js';
import { registerRunsCommands } from './commands/runs.js';
import { registerViewsCommands } from './commands/views.js';
import { registerProduceCommand } from './commands/produce.js';
import { registerSpeedCommands } from './commands/speed.js';
import { registerUpCommand } from './commands/up.js';
import { registerServeCommand } from './commands/serve.js';
import { globalOptions, processIO, type CliContext, type CliIO } from './context.js';
import { CliError, ExitCode, describeError, exitCodeFor } from './exit.js';
import { packageVersion, versionText } from './version.js';

/** Builds the program; `version` is the text `--version` prints. */
export function createProgram(ctx: CliContext, version: string): Command {
  const program = new Command('pulse')
    .description('PulseStream: batch views from S3, realtime views from Kafka, merged exactly over HTTP.')
    .version(version, '-V, --version', 'print the PulseStream and native core versions')
    .option('-c, --config <file>', 'config file (default: pulse.config.{ts,yaml,yml,json} in the working directory, else the embedded defaults)')
    .addOption(new Option('--log-level <level>', 'log level (default: $PULSE_LOG_LEVEL, else info)').choices(LOG_LEVELS))
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => ctx.io.stdout(text),
      writeErr: (text) => ctx.io.stderr(text),
    })
    .exitOverride();

  program.hook('preAction', (_program, action) => {
    let level;
    try {
      level = resolveLogLevel(globalOptions(action).logLevel, ctx.io.env);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    ctx.debug = level === 'debug' || level === 'trace';
    configureLogger({ level });
  });

  registerConfigCommands(program, ctx);
  registerBatchCommands(program, ctx);
  registerRulesCommands(program, ctx);
  registerRunsCommands(program, ctx);
  registerViewsCommands(program, ctx);
  registerSpeedCommands(program, ctx);
  registerProduceCommand(program, ctx);
  registerUpCommand(program, ctx);
  registerServeCommand(program, ctx);
  return program;
}

/** Whether argv asks for the version (then the native core is loaded to report its version). */
function asksForVersion(args: readonly string[]): boolean {
  return args.includes('-V') || args.includes('--version');
}

/** A fresh context for one invocation. */
export function createContext(io: CliIO = processIO): CliContext {
  return { io, exitCode: ExitCode.Ok, debug: ['debug', 'trace'].includes(io.env.PULSE_LOG_LEVEL ?? '') };
}

/** Parses `argv` with `program` and returns the exit code: the command's, or the one its error maps to. Never throws. */
export async function runProgram(program: Command, argv: readonly string[], ctx: CliContext): Promise<number> {
  try {
    await program.parseAsync([...argv]);
    return ctx.exitCode;
  } catch (err) {
    const text = describeError(err, ctx.debug);
    if (text) ctx.io.stderr(`${text}\n`);
    return exitCodeFor(err);
  }
}

/**
 * Runs `pulse` with `argv` (as in `process.argv`: node, script, args…) and
 * returns the exit code; never throws.
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const ctx = createContext(io);
  let version: string;
  try {
    version = asksForVersion(argv.slice(2)) ? await versionText() : packageVersion();
  } catch (err) {
    io.stderr(`${describeError(err, ctx.debug) ?? ''}\n`);
    return exitCodeFor(err);
  }
  return runProgram(createProgram(ctx, version), argv, ctx);
}
