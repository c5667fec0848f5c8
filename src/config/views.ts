/**
 * `views`: keyed event-time window aggregates. Each view names its window,
 * its group fields and its measures; the native core keeps them as mergeable
 * partial states and finalises them at query time.
 */
import { z } from 'zod';
import { duration } from './duration.js';
import { ALWAYS, unknownVariant, type CrossCheck } from './issues.js';
import { duplicates } from './rules.js';
import { isNumericType, type FieldType, type KnownFields } from './schema.js';

const VIEW_NAME = /^[a-z][a-z0-9_]*$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Columns every query result carries before the group fields. */
export const WINDOW_COLUMNS = ['window_start', 'window_end'] as const;

export const MEASURE_OPS = ['count', 'sum', 'min', 'max', 'avg', 'distinct', 'quantile'] as const;
export type MeasureOp = (typeof MEASURE_OPS)[number];

/** Ops that need an ordered, summable field. */
const NUMERIC_OPS: ReadonlySet<MeasureOp> = new Set(['sum', 'min', 'max', 'avg', 'quantile']);

export const DEFAULT_HLL_PRECISION = 12;
export const DEFAULT_RELATIVE_ACCURACY = 0.01;

const window = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('tumbling'),
      size: duration({ min: 1, description: 'Window length.' }),
    }),
    z
      .strictObject({
        type: z.literal('hopping'),
        size: duration({ min: 1, description: 'Window length.' }),
        slide: duration({ min: 1, description: 'Distance between window starts (at most size).' }),
      })
      .superRefine((w, ctx) => {
        if (typeof w.size === 'number' && typeof w.slide === 'number' && w.slide > w.size) {
          ctx.addIssue({ code: 'custom', path: ['slide'], message: `slide (${w.slide}ms) must not exceed size (${w.size}ms)` });
        }
      }),
    z.strictObject({
      type: z.literal('session'),
      gap: duration({ min: 1, description: 'Inactivity that closes a session.' }),
      align: duration({ min: 1, description: 'Grid that session fragments are cut at (default 1m); the batch/speed boundary is aligned to it.' }).optional(),
    }),
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? unknownVariant('window type', ['tumbling', 'hopping', 'session'], iss.input) : undefined) },
);

const measure = z
  .strictObject({
    name: z
      .string()
      .regex(COLUMN, { error: (iss) => `invalid measure name '${String(iss.input)}': use letters, digits and '_', not starting with a digit` })
      .optional()
      .meta({ description: 'Output column (default `<op>_<field>`, or `count`).' }),
    op: z.enum(MEASURE_OPS),
    field: z.string().min(1).optional().meta({ description: 'The field aggregated; count without a field counts rows.' }),
    precision: z.number().int().min(4).max(18).optional().meta({ description: 'distinct only: HyperLogLog precision, 4–18 (default 12).' }),
    q: z.number().min(0).max(1).optional().meta({ description: 'quantile only: the quantile, 0–1 (0.95 for p95).' }),
    relativeAccuracy: z.number().gt(0).lt(1).optional().meta({ description: 'quantile only: DDSketch relative accuracy (default 0.01).' }),
  })
  .superRefine((m, ctx) => {
    if (typeof m.op !== 'string') return;
    if (m.op !== 'count' && m.field === undefined) ctx.addIssue({ code: 'custom', path: ['field'], message: `required: ${m.op} aggregates a field` });
    if (m.precision !== undefined && m.op !== 'distinct') ctx.addIssue({ code: 'custom', path: ['precision'], message: `only distinct takes a precision, not ${m.op}` });
    if (m.op === 'quantile' && m.q === undefined) ctx.addIssue({ code: 'custom', path: ['q'], message: 'required: quantile needs q (0–1, e.g. 0.95)' });
    if (m.q !== undefined && m.op !== 'quantile') ctx.addIssue({ code: 'custom', path: ['q'], message: `only quantile takes q, not ${m.op}` });
    if (m.relativeAccuracy !== undefined && m.op !== 'quantile') ctx.addIssue({ code: 'custom', path: ['relativeAccuracy'], message: `only quantile takes relativeAccuracy, not ${m.op}` });
  }, ALWAYS)
  .transform((m) => ({
    ...m,
    name: m.name ?? defaultMeasureName(m.op, m.field),
    precision: m.op === 'distinct' ? (m.precision ?? DEFAULT_HLL_PRECISION) : undefined,
    relativeAccuracy: m.op === 'quantile' ? (m.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY) : undefined,
  }));

/** `${op}_${field}`, or `count` for a row count. */
export function defaultMeasureName(op: MeasureOp, field: string | undefined): string {
  return field === undefined ? op : `${op}_${field}`;
}

const view = z
  .strictObject({
    name: z.string().regex(VIEW_NAME, { error: (iss) => `invalid view name '${String(iss.input)}': use [a-z][a-z0-9_]*` }),
    window,
    groupBy: z.array(z.string().min(1)).default([]).meta({ description: 'Schema fields or derived columns the view is keyed by.' }),
    measures: z.array(measure).min(1),
    filter: z.string().min(1).optional().meta({ description: 'A boolean expression; only records where it is TRUE are aggregated.' }),
  })
  .superRefine((v, ctx) => {
    const groupBy = Array.isArray(v.groupBy) ? v.groupBy : [];
    duplicates(groupBy, (i, name) => ctx.addIssue({ code: 'custom', path: ['groupBy', i], message: `'${name}' is listed twice` }));
    groupBy.forEach((g, i) => {
      if ((WINDOW_COLUMNS as readonly string[]).includes(g)) ctx.addIssue({ code: 'custom', path: ['groupBy', i], message: `'${g}' is a reserved result column` });
    });
    const measures = Array.isArray(v.measures) ? v.measures : [];
    const names = measures.map((m) => (m && typeof m.name === 'string' ? m.name : undefined));
    duplicates(names, (i, name) => {
      const m = measures[i];
      const isDefault = m !== undefined && name === defaultMeasureName(m.op, m.field);
      ctx.addIssue({ code: 'custom', path: ['measures', i, 'name'], message: `duplicate measure name '${name}'${isDefault ? ' (the default name: give the measure a name)' : ''}` });
    });
    names.forEach((name, i) => {
      if (name === undefined) return;
      if (groupBy.includes(name)) ctx.addIssue({ code: 'custom', path: ['measures', i, 'name'], message: `measure name '${name}' clashes with a group field` });
      if ((WINDOW_COLUMNS as readonly string[]).includes(name)) ctx.addIssue({ code: 'custom', path: ['measures', i, 'name'], message: `'${name}' is a reserved result column` });
    });
  }, ALWAYS);

export const views = z
  .array(view)
  .min(1)
  .superRefine((vs, ctx) => {
    if (!Array.isArray(vs)) return;
    duplicates(vs.map((v) => v?.name), (i, name, first) =>
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate view name '${name}' (first defined at views.${first})` }),
    );
  }, ALWAYS)
  .meta({ description: 'Windowed aggregates computed by both the batch and the speed layer.' });

export type ViewInput = z.input<typeof view>;
export type View = z.output<typeof view>;
export type Window = View['window'];
export type Measure = View['measures'][number];

/**
 * Checks views against the schema and the derived columns: group fields and
 * measure fields exist, numeric measures aggregate numeric or timestamp fields.
 */
export function crossCheckViews(vs: readonly View[], fields: KnownFields, derived: ReadonlySet<string>, cc: CrossCheck): void {
  const known = (name: string) => fields.has(name) || derived.has(name);
  const typeOf = (name: string): FieldType | undefined => (fields.has(name) ? fields.get(name) : 'string');
  vs.forEach((v, i) => {
    if (!v || typeof v !== 'object') return;
    (Array.isArray(v.groupBy) ? v.groupBy : []).forEach((g, j) => {
      if (typeof g === 'string' && !known(g)) cc.report(['views', i, 'groupBy', j], `unknown field '${g}'`);
    });
    (Array.isArray(v.measures) ? v.measures : []).forEach((m, j) => {
      if (cc.dirty(['views', i, 'measures', j]) || m.field === undefined) return;
      if (!known(m.field)) {
        cc.report(['views', i, 'measures', j, 'field'], `unknown field '${m.field}'`);
        return;
      }
      const type = typeOf(m.field);
      if (type !== undefined && NUMERIC_OPS.has(m.op) && !isNumericType(type)) {
        const what = fields.has(m.field) ? type : 'derived column';
        cc.report(['views', i, 'measures', j, 'field'], `${m.op} needs an int64, float64 or timestamp field; '${m.field}' is a ${what}`);
      }
    });
  });
}
