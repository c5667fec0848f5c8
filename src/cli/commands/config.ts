/** `pulse config check` and `pulse config schema`. */
import type { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { configJsonSchemaText } from '../../config/json-schema.js';
import { activeEnvOverrides } from '../../config/env.js';
import { loadCliConfig, type CliContext } from '../context.js';
import { ExitCode } from '../exit.js';
import { describeConfig } from '../summary.js';

export function registerConfigCommands(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('check the config or print its JSON Schema');

  config
    .command('check')
    .description('validate the config and print a summary, or every problem found (exit 0 valid, 2 invalid)')
    .option('--json', 'print the validated config as JSON (secrets redacted)')
    .action(async (options: { json?: boolean }, command: Command) => {
      const loaded = await loadCliConfig(ctx, command);
      if (options.json) {
        ctx.io.stdout(`${JSON.stringify({ file: loaded.file ?? null, config: redact(loaded.config) }, null, 2)}\n`);
      } else {
        const overrides = activeEnvOverrides({ speed: loaded.config.speed }, ctx.io.env);
        ctx.io.stdout(`${describeConfig(loaded, overrides)}\n`);
      }
      ctx.exitCode = ExitCode.Ok;
    });

  config
    .command('schema')
    .description('print the JSON Schema of the config file (for editors: "$schema" in JSON, yaml-language-server in YAML)')
    .action(() => {
      ctx.io.stdout(configJsonSchemaText());
    });
}

/** The config with secrets replaced, safe to print or log. */
export function redact(config: Config): Config {
  const hide = (v: string | undefined) => (v === undefined ? undefined : '***');
  return {
    ...config,
    s3: { ...config.s3, secretAccessKey: hide(config.s3.secretAccessKey) },
    serving: { ...config.serving, auth: { tokens: config.serving.auth.tokens.map(() => '***') } },
  };
}
