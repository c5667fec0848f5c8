import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { createContext, createProgram, runCli, runProgram } from '../src/cli/program.js';
import { ExitCode } from '../src/cli/exit.js';
import type { CliIO } from '../src/cli/context.js';
import { configJsonSchemaText } from '../src/config/json-schema.js';

const repoRoot = join(import.meta.dirname, '..');
const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;

function io(env: Record<string, string> = {}, cwd = dir): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), cwd, env: { PULSE_LOG_LEVEL: 'silent', ...env } };
}

async function pulse(args: string[], env: Record<string, string> = {}, cwd = dir): Promise<Run> {
  const streams = io(env, cwd);
  const code = await runCli(['node', 'pulse', ...args], streams);
  return { code, stdout: streams.out.join(''), stderr: streams.err.join('') };
}

const valid = {
  schema: { fields: [{ name: 'ts', type: 'timestamp', nullable: false }, { name: 'amount', type: 'float64' }], eventTime: 'ts' },
  views: [{ name: 'totals_1m', window: { type: 'tumbling', size: '1m' }, measures: [{ op: 'sum', field: 'amount' }] }],
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pulse-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pulse', () => {
  it('prints its help with the global options and the config commands', async () => {
    const run = await pulse(['--help']);
    expect(run.code).toBe(ExitCode.Ok);
    expect(run.stdout).toContain('Usage: pulse [options] [command]');
    expect(run.stdout).toContain('--config <file>');
    expect(run.stdout).toContain('--log-level <level>');
    expect(run.stdout).toMatch(/\n {2}config\s+check the config or print its JSON Schema/);
  });

  it('prints the package and native core versions', async () => {
    const run = await pulse(['--version']);
    expect(run.code).toBe(ExitCode.Ok);
    expect(run.stdout).toMatch(new RegExp(`^pulse ${pkg.version.replaceAll('.', '\\.')}\\nnative core (\\d+\\.\\d+\\.\\d+|not available \\(.+\\))\\n$`));
  });

  it('exits 2 on an unknown command, option or log level', async () => {
    const unknownCommand = await pulse(['frobnicate']);
    expect(unknownCommand.code).toBe(ExitCode.Failure);
    expect(unknownCommand.stderr).toContain("error: unknown command 'frobnicate'");
    expect((await pulse(['config', 'check', '--bogus'])).code).toBe(ExitCode.Failure);
    const level = await pulse(['--log-level', 'loud', 'config', 'check']);
    expect(level.code).toBe(ExitCode.Failure);
    expect(level.stderr).toContain("argument 'loud' is invalid");
    const envLevel = await pulse(['config', 'check'], { PULSE_LOG_LEVEL: 'loud' });
    expect(envLevel).toMatchObject({ code: ExitCode.Failure, stderr: "pulse: PULSE_LOG_LEVEL: unknown log level 'loud' (expected one of trace, debug, info, warn, error, fatal, silent)\n" });
  });

  it('turns an unexpected exception into one line and exit 3, with the stack only at debug level', async () => {
    const fail = async (env: Record<string, string>) => {
      const streams = io(env);
      const ctx = createContext(streams);
      const program = createProgram(ctx, '0.0.0');
      program.command('explode').action(() => {
        throw new TypeError('cannot read properties of undefined');
      });
      return { code: await runProgram(program, ['node', 'pulse', 'explode'], ctx), stderr: streams.err.join('') };
    };
    const quiet = await fail({});
    expect(quiet.code).toBe(ExitCode.Internal);
    expect(quiet.stderr).toBe('pulse: internal error: cannot read properties of undefined (run with --log-level debug for the stack trace)\n');
    const debug = await fail({ PULSE_LOG_LEVEL: 'debug' });
    expect(debug.code).toBe(ExitCode.Internal);
    expect(debug.stderr).toMatch(/^pulse: internal error: cannot read properties of undefined\nTypeError: cannot read properties of undefined\n\s+at /);
  });
});

describe('pulse config check', () => {
  it('validates the embedded defaults when there is no config file', async () => {
    const run = await pulse(['config', 'check']);
    expect(run.code).toBe(ExitCode.Ok);
    expect(run.stdout).toMatch(/^embedded defaults: valid\n/);
    expect(run.stdout).toContain('device_temperature_1m: tumbling 1m by device → count, avg_temperature, min_temperature, max_temperature, p95_temperature');
    expect(run.stdout).toContain('site_activity_5m: hopping 5m every 1m by site → count, devices');
    expect(run.stdout).toContain('serving: http://127.0.0.1:8080, no auth');
  });

  it('finds pulse.config.yaml in the working directory', async () => {
    const cwd = await mkdtemp(join(dir, 'found-'));
    await writeFile(join(cwd, 'pulse.config.yaml'), toYaml(valid));
    const run = await pulse(['config', 'check'], {}, cwd);
    expect(run.code).toBe(ExitCode.Ok);
    expect(run.stdout).toMatch(new RegExp(`^${join(cwd, 'pulse.config.yaml')}: valid\n`));
    expect(run.stdout).toContain('totals_1m: tumbling 1m → sum_amount');
  });

  it('lists every problem of an invalid file and exits 2', async () => {
    const file = join(dir, 'invalid.yaml');
    const bad = structuredClone(valid) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    bad.views[0].measures.push({ op: 'max', field: 'amout' });
    bad.schema.fields.push({ name: 'amount', type: 'float64' });
    await writeFile(file, toYaml(bad));
    const run = await pulse(['config', 'check', '--config', file]);
    expect(run.code).toBe(ExitCode.Failure);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `${file}: schema.fields.2.name: duplicate field name 'amount' (first defined at schema.fields.1)\n` + `${file}: views.0.measures.1.field: unknown field 'amout'\n`,
    );
  });

  it('reports a missing config file and exits 2', async () => {
    const run = await pulse(['config', 'check', '-c', 'nope.yaml']);
    expect(run).toMatchObject({ code: ExitCode.Failure, stderr: `${join(dir, 'nope.yaml')}: file not found\n` });
  });

  it('prints the validated config as JSON with secrets redacted', async () => {
    const run = await pulse(['config', 'check', '--json'], { AWS_ACCESS_KEY_ID: 'pulse', AWS_SECRET_ACCESS_KEY: 'pulse-secret', PULSE_API_TOKENS: 'a-token-of-sixteen-chars' });
    expect(run.code).toBe(ExitCode.Ok);
    const { file, config } = JSON.parse(run.stdout) as { file: null; config: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(file).toBeNull();
    expect(config.s3).toMatchObject({ accessKeyId: 'pulse', secretAccessKey: '***' });
    expect(config.serving.auth.tokens).toEqual(['***']);
    expect(run.stdout).not.toContain('pulse-secret');
    expect(config.views[0].window).toEqual({ type: 'tumbling', size: 60_000 });
  });

  it('names the environment overrides it applied', async () => {
    const run = await pulse(['config', 'check'], { S3_ENDPOINT: 'http://127.0.0.1:19000', KAFKA_BROKERS: '127.0.0.1:19092' });
    expect(run.code).toBe(ExitCode.Ok);
    // The embedded stream is the generator, so KAFKA_BROKERS does not apply.
    expect(run.stdout).toContain('env:     S3_ENDPOINT applied');
  });
});

describe('pulse config schema', () => {
  it('prints the committed JSON Schema', async () => {
    const run = await pulse(['config', 'schema']);
    expect(run.code).toBe(ExitCode.Ok);
    expect(run.stdout).toBe(configJsonSchemaText());
    expect(JSON.parse(run.stdout)).toMatchObject({ title: 'PulseStream config', type: 'object', required: ['schema', 'views'] });
  });
});

describe('the pulse executable', () => {
  const main = join(repoRoot, 'src', 'cli', 'main.ts');
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const exec = (args: string[]) =>
    spawnSync(process.execPath, ['--import', tsxLoader, main, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PULSE_LOG_LEVEL: 'silent' } });

  it('exits with the code of the command', async () => {
    const help = exec(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: pulse');
    const file = join(dir, 'exec-invalid.json');
    await writeFile(file, JSON.stringify({ ...valid, views: [] }));
    const invalid = exec(['config', 'check', '--config', file]);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toBe(`${file}: views: needs at least 1 entry\n`);
  });
});
