/**
 * Finding and reading a config file (`pulse.config.ts`, `.yaml`, `.yml`,
 * `.json`), then: environment overrides → validation → relative paths made
 * absolute against the file's folder.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { parseDocument } from 'yaml';
import { validateConfig, type Config } from './config.js';
import { defaultConfigInput } from './defaults.js';
import { applyEnvOverrides } from './env.js';
import { ConfigError } from './issues.js';
import { resolveLocation } from './location.js';

/** Looked for in this order in the working directory when no `--config` is given. */
export const CONFIG_FILE_NAMES = ['pulse.config.ts', 'pulse.config.yaml', 'pulse.config.yml', 'pulse.config.json'] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** A validated config and where it came from. */
export interface LoadedConfig {
  config: Config;
  /** The file read, or `undefined` when the embedded defaults were used. */
  file: string | undefined;
  /** Folder that relative paths in the config were resolved against. */
  baseDir: string;
}

export interface LoadOptions {
  /** An explicit config file; otherwise `CONFIG_FILE_NAMES` are looked for in `cwd`, then the embedded defaults are used. */
  file?: string | undefined;
  cwd?: string;
  env?: Env;
}

/** The first of `CONFIG_FILE_NAMES` present in `dir`. */
export function findConfigFile(dir: string): string | undefined {
  return CONFIG_FILE_NAMES.map((name) => join(dir, name)).find((p) => existsSync(p));
}

/** Loads, overrides, validates and resolves the config; throws `ConfigError` listing every problem. */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const file = options.file !== undefined ? resolve(cwd, options.file) : findConfigFile(cwd);
  if (file === undefined) {
    const config = validateConfig(applyEnvOverrides(defaultConfigInput, env));
    return { config: resolveConfigPaths(config, cwd), file: undefined, baseDir: cwd };
  }
  const raw = await readConfigFile(file);
  const config = validateConfig(applyEnvOverrides(raw, env), file);
  const baseDir = dirname(file);
  return { config: resolveConfigPaths(config, baseDir), file, baseDir };
}

/** Reads a config file into a plain value, by extension; syntax errors name line and column. */
export async function readConfigFile(file: string): Promise<unknown> {
  const ext = extname(file).toLowerCase();
  if (!['.yaml', '.yml', '.json', '.ts', '.mts', '.js', '.mjs'].includes(ext)) {
    throw new ConfigError([{ path: '', message: `unsupported config file type '${ext || file}': use .yaml, .yml, .json or .ts` }], file);
  }
  if (ext === '.ts' || ext === '.mts' || ext === '.js' || ext === '.mjs') return importConfigModule(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? 'file not found' : `cannot read the file: ${err.message}`;
    throw new ConfigError([{ path: '', message: reason }], file);
  }
  return ext === '.json' ? parseJson(text, file) : parseYaml(text, file);
}

/** Parses YAML, reporting every syntax error with its line and column. Duplicate keys are errors. */
export function parseYaml(text: string, file?: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const reason = e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
        return { path: '', message: pos ? `YAML syntax error at line ${pos.line}, column ${pos.col}: ${reason}` : `YAML syntax error: ${reason}` };
      }),
      file,
    );
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) throw new ConfigError([{ path: '', message: 'the config file is empty' }], file);
  return value;
}

/** Parses strict JSON, reporting every syntax error with its line and column. */
export function parseJson(text: string, file?: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => {
        const { line, column } = lineColumn(text, e.offset);
        return { path: '', message: `JSON syntax error at line ${line}, column ${column}: ${words(printParseErrorCode(e.error))}` };
      }),
      file,
    );
  }
  if (value === undefined) throw new ConfigError([{ path: '', message: 'the config file is empty' }], file);
  return value;
}

/** `CloseBraceExpected` → `close brace expected`. */
function words(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/**
 * Imports a `.ts` (or `.js`) config through tsx and returns its default
 * export: the config object, or a function (possibly async) returning it.
 */
async function importConfigModule(file: string): Promise<unknown> {
  if (!existsSync(file)) throw new ConfigError([{ path: '', message: 'file not found' }], file);
  let mod: { default?: unknown };
  try {
    const { tsImport } = await import('tsx/esm/api');
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (e) {
    throw new ConfigError([{ path: '', message: `cannot load the module: ${firstLine((e as Error).message)}` }], file);
  }
  let value = mod.default;
  // A module tsx compiled as CommonJS arrives wrapped once more: unwrap its ES-module default.
  if (typeof value === 'object' && value !== null && Object.getOwnPropertyDescriptor(value, '__esModule')?.value === true) {
    value = (value as { default?: unknown }).default;
  }
  if (typeof value === 'function') {
    try {
      value = await (value as () => unknown)();
    } catch (e) {
      throw new ConfigError([{ path: '', message: `the config function failed: ${firstLine((e as Error).message)}` }], file);
    }
  }
  if (value === undefined) {
    throw new ConfigError([{ path: '', message: 'the module has no default export: use `export default defineConfig({ … })`' }], file);
  }
  return value;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** Makes every relative local path in the config absolute against `baseDir`. */
export function resolveConfigPaths(config: Config, baseDir: string): Config {
  const r = (p: string) => resolveLocation(p, baseDir);
  const speed = config.speed && {
    ...config.speed,
    archive: r(config.speed.archive),
    viewStore: r(config.speed.viewStore),
    source: config.speed.source.type === 'file' ? { ...config.speed.source, path: resolve(baseDir, config.speed.source.path) } : config.speed.source,
  };
  return {
    ...config,
    batch: { ...config.batch, source: r(config.batch.source), viewStore: r(config.batch.viewStore), errors: r(config.batch.errors) },
    speed,
  };
}
