/**
 * The whole config: one zod schema made of the section modules, plus the
 * checks that need two sections at once (rules and views against the record
 * schema) and the defaults that come from another section.
 */
import { z } from 'zod';
import { batch } from './batch.js';
import { ALWAYS, ConfigError, configErrorMap, fromZodIssues, hasIssueUnder, type CrossCheck } from './issues.js';
import { crossCheckRules, rules } from './rules.js';
import { s3 } from './s3.js';
import { FIELD_TYPES, recordSchema, type FieldType } from './schema.js';
import { serving } from './serving.js';
import { speed } from './speed.js';
import { crossCheckViews, views } from './views.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Field name → type for every field with a name; the type is `undefined` when it is itself invalid. */
function fieldTypes(schema: unknown): Map<string, FieldType | undefined> {
  const out = new Map<string, FieldType | undefined>();
  const fields = isRecord(schema) && Array.isArray(schema.fields) ? schema.fields : [];
  for (const f of fields) {
    if (!isRecord(f) || typeof f.name !== 'string' || out.has(f.name)) continue;
    out.set(f.name, (FIELD_TYPES as readonly unknown[]).includes(f.type) ? (f.type as FieldType) : undefined);
  }
  return out;
}

function derivedColumns(r: unknown): Set<string> {
  const derive = isRecord(r) && Array.isArray(r.derive) ? r.derive : [];
  return new Set(derive.filter(isRecord).map((d) => d.column).filter((c): c is string => typeof c === 'string'));
}

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'JSON Schema reference for editors; ignored.' }),
    schema: recordSchema,
    rules: rules.prefault({}),
    views,
    batch: batch.prefault({}),
    speed: speed.optional(),
    s3: s3.prefault({}),
    serving: serving.prefault({}),
  })
  .superRefine((c, ctx) => {
    const cc: CrossCheck = {
      report: (path, message) => ctx.addIssue({ code: 'custom', path: [...path], message }),
      dirty: (path) => hasIssueUnder(ctx.issues, path),
    };
    const fields = fieldTypes(c.schema);
    if (isRecord(c.rules)) crossCheckRules(c.rules, fields, cc);
    if (Array.isArray(c.views)) crossCheckViews(c.views, fields, derivedColumns(c.rules), cc);
  }, ALWAYS)
  .transform((c) => ({
    ...c,
    speed: c.speed && {
      ...c.speed,
      archive: c.speed.archive ?? c.batch.source,
      viewStore: c.speed.viewStore ?? c.batch.viewStore,
    },
  }))
  .meta({ title: 'PulseStream config', description: 'pulse.config.{yaml,json,ts}: schema, rules, views and the three layers.' });

/** What a config file holds (defaults still to be applied). */
export type ConfigInput = z.input<typeof configSchema>;
/** A validated config: defaults applied, durations in ms, sizes in bytes. */
export type Config = z.output<typeof configSchema>;
export type Speed = NonNullable<Config['speed']>;

/** Identity function that gives a `.ts` config its types: `export default defineConfig({ … })`. */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}

/**
 * Validates a config object, throwing a `ConfigError` that lists every
 * problem. Environment overrides are the loader's job (see `env.ts`).
 */
export function validateConfig(input: unknown, file?: string): Config {
  const result = configSchema.safeParse(input, { error: configErrorMap });
  if (!result.success) throw new ConfigError(sortIssues(fromZodIssues(result.error.issues)), file);
  return result.data;
}

/** Groups problems by section, in the order sections are documented; within a section, in the order found. */
function sortIssues<T extends { path: string }>(issues: T[]): T[] {
  const sections = Object.keys(configSchema.def.in.def.shape);
  const rank = (path: string) => {
    const i = sections.indexOf(path.split('.')[0] ?? '');
    return i < 0 ? -1 : i;
  };
  return issues
    .map((issue, i) => ({ issue, i, r: rank(issue.path) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.issue);
}
