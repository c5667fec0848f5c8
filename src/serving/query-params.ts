/**
 * The query string of `GET /v1/views/:name`, as one zod schema per view: the
 * window range (`from`, `to`), one optional equality filter per group field
 * (typed like the field), `granularity` (tumbling views) and `limit`.
 * Unknown parameters, malformed times and ranges past the caps are 400s
 * carrying zod's issues, before any state is touched.
 */
import { validatorCompiler } from 'fastify-type-provider-zod';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../config/index.js';
import type { GroupField, ViewDefinition } from './definition.js';
import { alignDown } from './plan.js';
import type { ServedView, ViewQuery } from './served-view.js';

export const DAY_MS = 86_400_000;

/** Parameter names that are not group filters. */
export const RESERVED_PARAMS = ['from', 'to', 'granularity', 'limit'] as const;

/** Longest text accepted for one filter value. */
const MAX_VALUE_LENGTH = 512;

export interface QueryLimits {
  /** Most rows one answer may hold (`serving.maxRows`). */
  maxRows: number;
  /** Longest `to - from` (`serving.maxRange`, ms). */
  maxRangeMs: number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const ISO_DATETIME = z.iso.datetime({ offset: true });
const ISO_DATE = z.iso.date();

/**
 * An instant: ISO-8601 date-time with an explicit offset (`Z` or `+01:00`),
 * or a calendar date (midnight UTC). A local time without an offset is
 * refused as ambiguous, as everywhere else in PulseStream.
 */
export const instant = z
  .string()
  .max(64)
  .superRefine((text, ctx) => {
    const ok = ISO_DATETIME.safeParse(text).success || ISO_DATE.safeParse(text).success;
    if (!ok) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid time '${text}': use ISO-8601 with an offset, e.g. 2026-01-31T12:00:00Z or 2026-01-31T13:00:00+01:00, or a date (2026-01-31)`,
      });
    } else if (!Number.isFinite(Date.parse(text))) {
      ctx.addIssue({ code: 'custom', message: `time '${text}' is out of range` });
    }
  })
  .transform((text) => Date.parse(text));

/** A filter value for one group field, checked against the field's type and passed on as text. */
function groupValue(field: GroupField) {
  const text = z.string().max(MAX_VALUE_LENGTH, { error: `a filter value is at most ${MAX_VALUE_LENGTH} characters` });
  switch (field.type) {
    case 'string':
      return text;
    case 'int64':
      return text.refine((v) => /^-?\d{1,19}$/.test(v) && BigInt(v) >= INT64_MIN && BigInt(v) <= INT64_MAX, {
        error: (iss) => `'${String(iss.input)}' is not a 64-bit integer (field '${field.name}' is int64)`,
      });
    case 'float64':
      return text.refine((v) => v.trim() !== '' && Number.isFinite(Number(v)), {
        error: (iss) => `'${String(iss.input)}' is not a number (field '${field.name}' is float64)`,
      });
    case 'bool':
      return text.refine((v) => v === 'true' || v === 'false', { error: `use true or false (field '${field.name}' is bool)` });
    case 'timestamp':
      return instant.transform((ms) => String(ms));
  }
}

/** The validated query string: times in ms, the granularity in ms, group filters as text. */
export interface ParsedViewQuery {
  from: number | undefined;
  to: number | undefined;
  granularityMs: number | undefined;
  limit: number | undefined;
  groups: Record<string, string>;
}

/** The querystring schema of one view. */
export function viewQuerySchema(definition: ViewDefinition, limits: QueryLimits) {
  const window = definition.spec.window;
  const groupShape: Record<string, z.ZodType> = {};
  for (const field of definition.groupFields) {
    if ((RESERVED_PARAMS as readonly string[]).includes(field.name)) continue;
    groupShape[field.name] = groupValue(field).optional().meta({ description: `Only rows whose ${field.name} equals this (${field.type}).` });
  }
  const groupNames = Object.keys(groupShape);
  const name = definition.name;

  return z
    .strictObject({
      from: instant.optional().meta({ description: 'First window start included (ISO-8601). Default: `to` minus one day.' }),
      to: instant
        .optional()
        .meta({ description: 'Window starts before this (ISO-8601). Default: `from` plus one day, else the end of the newest data.' }),
      granularity: z
        .string()
        .max(32)
        .optional()
        .meta({ description: 'Roll windows up to this size (tumbling views; a multiple of the window size), e.g. `1h`.' }),
      limit: z
        .string()
        .regex(/^\d{1,9}$/, { error: 'limit is a positive integer' })
        .transform(Number)
        .refine((n) => n >= 1 && n <= limits.maxRows, { error: `limit must be between 1 and ${limits.maxRows}` })
        .optional()
        .meta({ description: `Most rows returned (default and maximum ${limits.maxRows}).` }),
      ...groupShape,
    }, {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? `unknown parameter${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `'${k.slice(0, 64)}'`).join(', ')}; ${name} takes ${[...RESERVED_PARAMS, ...groupNames].join(', ')}`
          : undefined,
    })
    .superRefine((q, ctx) => {
      if (q.from !== undefined && q.to !== undefined) {
        if (q.from >= q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: '`to` must be after `from`' });
        else if (q.to - q.from > limits.maxRangeMs) {
          ctx.addIssue({
            code: 'custom',
            path: ['to'],
            message: `the range from–to is ${formatDuration(q.to - q.from)}, past the maximum of ${formatDuration(limits.maxRangeMs)}: narrow it`,
          });
        }
      }
      if (q.granularity !== undefined) {
        const ms = parseDuration(q.granularity);
        if (window.type !== 'tumbling') {
          ctx.addIssue({ code: 'custom', path: ['granularity'], message: `granularity applies to tumbling views only; '${definition.name}' is ${window.type}` });
        } else if (ms === undefined || ms <= 0) {
          ctx.addIssue({ code: 'custom', path: ['granularity'], message: `invalid granularity '${q.granularity}': use a duration such as 5m, 1h or 1d` });
        } else if (ms % window.sizeMs !== 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['granularity'],
            message: `granularity ${q.granularity} is not a multiple of the window size ${formatDuration(window.sizeMs)}`,
          });
        } else if (ms > limits.maxRangeMs) {
          ctx.addIssue({ code: 'custom', path: ['granularity'], message: `granularity ${q.granularity} is longer than the maximum range ${formatDuration(limits.maxRangeMs)}` });
        }
      }
    })
    .transform((q): ParsedViewQuery => {
      const groups: Record<string, string> = {};
      for (const name of groupNames) {
        const value = (q as Record<string, unknown>)[name];
        if (typeof value === 'string') groups[name] = value;
      }
      const granularityMs = q.granularity === undefined ? undefined : parseDuration(q.granularity);
      // A rollup to the window's own size is no rollup.
      const rollup = granularityMs !== undefined && window.type === 'tumbling' && granularityMs !== window.sizeMs ? granularityMs : undefined;
      return { from: q.from, to: q.to, granularityMs: rollup, limit: q.limit, groups };
    });
}

/**
 * Fills the defaults of a parsed query: one day (or `maxRange`, if shorter)
 * ending at the end of the newest data's window, or at now when there is no
 * data; a missing bound is one day from the other. Rows default to at most
 * `maxRows + 1`, so an answer past the cap can be told from one at it.
 */
export function resolveViewQuery(
  parsed: ParsedViewQuery,
  view: Pick<ServedView, 'newestData' | 'geometry'>,
  limits: QueryLimits,
  now: number,
): ViewQuery & { explicitLimit: boolean } {
  const span = Math.min(DAY_MS, limits.maxRangeMs);
  let { from, to } = parsed;
  if (to === undefined) {
    if (from !== undefined) to = from + span;
    else {
      const newest = view.newestData;
      const step = view.geometry({ granularityMs: parsed.granularityMs }).step;
      to = newest === null ? now : alignDown(newest, step) + step;
    }
  }
  from ??= to - span;
  return {
    from,
    to,
    groups: parsed.groups,
    granularityMs: parsed.granularityMs,
    limit: parsed.limit ?? limits.maxRows + 1,
    explicitLimit: parsed.limit !== undefined,
  };
}

/** Query strings whose parse a view route remembers. */
const REMEMBERED_QUERIES = 1000;

type Validation = ReturnType<ReturnType<typeof validatorCompiler>>;

/**
 * The validator of a view route's query string: zod's, with each successful
 * parse remembered by the parameters it was given. Dashboards repeat the
 * same few queries, and parsing them again (two ISO times, the filters) was
 * most of the work of answering from the answer cache. A parse depends on
 * the parameters alone — not on the served version or the clock — so a
 * remembered one stays right; rejects are not remembered, they go through
 * zod each time and keep its messages. A remembered value is frozen: every
 * request that repeats the query shares it.
 */
export const rememberingValidatorCompiler: typeof validatorCompiler = (route) => {
  const validate = validatorCompiler(route);
  if (route.httpPart !== 'querystring') return validate;
  const remembered = new LRUCache<string, Validation>({ max: REMEMBERED_QUERIES });
  return (data: unknown) => {
    const key = JSON.stringify(data);
    let result = remembered.get(key);
    if (result === undefined) {
      result = validate(data);
      if (typeof result === 'object' && 'value' in result && result.error === undefined) {
        deepFreeze(result.value);
        remembered.set(key, result);
      }
    }
    return result;
  };
};

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  for (const inner of Object.values(value)) deepFreeze(inner);
  Object.freeze(value);
}
