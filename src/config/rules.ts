/**
 * `rules`: validation checks (reject or warn) and derivations (tag a record
 * with a label column). Expressions stay strings here; the native core parses
 * and type-checks them when it compiles the rule set.
 */
import { z } from 'zod';
import { ALWAYS, type CrossCheck } from './issues.js';
import { fieldType, isNumericType, type FieldType, type KnownFields } from './schema.js';

/** The kinds a check can have; each check has exactly one. */
export const CHECK_KINDS = ['required', 'range', 'in', 'regex', 'length', 'type', 'expr'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** Rule ids and column names: start with a letter, then letters, digits, `_`, `-` or `.`. */
const RULE_ID = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const range = z
  .strictObject({
    min: z.number().optional(),
    max: z.number().optional(),
    minExclusive: z.boolean().optional(),
    maxExclusive: z.boolean().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.min === undefined && r.max === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a range needs min, max or both' });
    } else if (r.min !== undefined && r.max !== undefined) {
      if (r.min > r.max) ctx.addIssue({ code: 'custom', message: `min ${r.min} is greater than max ${r.max}` });
      else if (r.min === r.max && (r.minExclusive || r.maxExclusive)) ctx.addIssue({ code: 'custom', message: `the range (${r.min}, ${r.max}) is empty` });
    }
    if (r.minExclusive !== undefined && r.min === undefined) ctx.addIssue({ code: 'custom', path: ['minExclusive'], message: 'minExclusive needs min' });
    if (r.maxExclusive !== undefined && r.max === undefined) ctx.addIssue({ code: 'custom', path: ['maxExclusive'], message: 'maxExclusive needs max' });
  })
  .meta({ description: 'Inclusive bounds unless minExclusive/maxExclusive; timestamps compare as epoch milliseconds.' });

const length = z
  .strictObject({
    min: z.number().int().nonnegative().optional(),
    max: z.number().int().nonnegative().optional(),
  })
  .superRefine((l, ctx) => {
    if (l.min === undefined && l.max === undefined) ctx.addIssue({ code: 'custom', message: 'a length check needs min, max or both' });
    else if (l.min !== undefined && l.max !== undefined && l.min > l.max) ctx.addIssue({ code: 'custom', message: `min ${l.min} is greater than max ${l.max}` });
  })
  .meta({ description: 'String length in characters (Unicode code points), inclusive.' });

const check = z
  .strictObject({
    id: z.string().regex(RULE_ID, { error: (iss) => `invalid rule id '${String(iss.input)}': use a letter, then letters, digits, '_', '-' or '.'` }),
    field: z.string().min(1).optional().meta({ description: 'The field a field check applies to (not used by expr checks).' }),
    required: z.literal(true).optional().meta({ description: 'Fails when the field is null or missing.' }),
    range: range.optional(),
    in: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .optional()
      .meta({ description: 'The allowed values.' }),
    regex: z.string().min(1).optional().meta({ description: 'A regular expression the whole value must match somewhere (anchor it with ^…$ to match all of it).' }),
    length: length.optional(),
    type: fieldType.optional().meta({ description: 'The value must be readable as this type.' }),
    expr: z.string().min(1).optional().meta({ description: 'A boolean expression over the record; fails when FALSE (NULL passes, like a CHECK constraint).' }),
    severity: z.enum(['error', 'warn']).default('error').meta({ description: 'error rejects the record; warn keeps it and counts it.' }),
    message: z.string().min(1).optional().meta({ description: 'The reason given for a failure (default: generated from the check).' }),
  })
  .superRefine((c, ctx) => {
    const kinds = CHECK_KINDS.filter((k) => c[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: kinds.length === 0 ? `a check needs one of ${CHECK_KINDS.join(', ')}` : `a check has exactly one kind, got ${kinds.join(' and ')}`,
      });
      return;
    }
    if (kinds[0] === 'expr') {
      if (c.field !== undefined) ctx.addIssue({ code: 'custom', path: ['field'], message: 'an expr check names its fields in the expression; remove field' });
    } else if (c.field === undefined) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: `required: a ${kinds[0]} check applies to a field` });
    }
    if (typeof c.regex === 'string') {
      try {
        // A leading inline-flag group such as `(?i)` is Rust syntax JS lacks; the core checks it.
        new RegExp(c.regex.replace(/^\(\?[imsuxU]+\)/, ''));
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['regex'], message: `invalid regular expression: ${(e as Error).message}` });
      }
    }
  }, ALWAYS)
  .transform((c) => ({ ...c, kind: CHECK_KINDS.find((k) => c[k] !== undefined) as CheckKind }));

const derivation = z
  .strictObject({
    column: z.string().regex(COLUMN, { error: (iss) => `invalid column name '${String(iss.input)}': use letters, digits and '_', not starting with a digit` }),
    default: z.string().nullable().optional().meta({ description: 'The label when no case matches (default null).' }),
    cases: z
      .array(z.strictObject({ when: z.string().min(1), set: z.string() }))
      .min(1)
      .meta({ description: 'Tried in order; the first case whose when is TRUE sets the label.' }),
  })
  .meta({ description: 'A derived label column (nullable string) appended after the schema fields.' });

export const rules = z
  .strictObject({
    onError: z.enum(['skip', 'halt']).default('skip').meta({ description: 'skip: reject the record and go on; halt: stop at the first error-severity failure.' }),
    checks: z.array(check).default([]),
    derive: z.array(derivation).default([]),
  })
  .superRefine((r, ctx) => {
    duplicates(Array.isArray(r.checks) ? r.checks.map((c) => c?.id) : [], (i, id, first) =>
      ctx.addIssue({ code: 'custom', path: ['checks', i, 'id'], message: `duplicate rule id '${id}' (first used by rules.checks.${first})` }),
    );
    duplicates(Array.isArray(r.derive) ? r.derive.map((d) => d?.column) : [], (i, column, first) =>
      ctx.addIssue({ code: 'custom', path: ['derive', i, 'column'], message: `duplicate derived column '${column}' (first defined by rules.derive.${first})` }),
    );
  }, ALWAYS)
  .meta({ description: 'Validation checks and derivations, compiled once by the native core.' });

export type RulesInput = z.input<typeof rules>;
export type Rules = z.output<typeof rules>;
export type Check = Rules['checks'][number];
export type Derivation = Rules['derive'][number];

/** Calls `onDuplicate(index, value, firstIndex)` for every string seen before; ignores non-strings. */
export function duplicates(values: readonly unknown[], onDuplicate: (index: number, value: string, first: number) => void): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    if (typeof v !== 'string') return;
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else onDuplicate(i, v, first);
  });
}

/** Which field types each field check makes sense on. */
function checkFitsType(kind: CheckKind, type: FieldType): string | undefined {
  if (kind === 'range' && !isNumericType(type)) return `range applies to int64, float64 and timestamp fields, not ${type}`;
  if ((kind === 'regex' || kind === 'length') && type !== 'string') return `${kind} applies to string fields, not ${type}`;
  return undefined;
}

function valueFitsType(value: string | number | boolean, type: FieldType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'int64':
    case 'timestamp':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'float64':
      return typeof value === 'number';
  }
}

/**
 * Checks rules against the schema: field checks name a schema field of a
 * fitting type, `in` values have the field's type, derived columns do not
 * shadow schema fields.
 */
export function crossCheckRules(r: Rules, fields: KnownFields, cc: CrossCheck): void {
  (Array.isArray(r.checks) ? r.checks : []).forEach((c, i) => {
    if (cc.dirty(['rules', 'checks', i]) || c.kind === 'expr' || c.field === undefined) return;
    if (!fields.has(c.field)) {
      cc.report(['rules', 'checks', i, 'field'], `unknown field '${c.field}'`);
      return;
    }
    const type = fields.get(c.field);
    if (type === undefined) return; // the field's own type is invalid, reported under schema
    const misfit = checkFitsType(c.kind, type);
    if (misfit) cc.report(['rules', 'checks', i, c.kind], `${misfit} ('${c.field}' is ${type})`);
    c.in?.forEach((v, j) => {
      if (!valueFitsType(v, type)) cc.report(['rules', 'checks', i, 'in', j], `${JSON.stringify(v)} is not a ${type} value ('${c.field}' is ${type})`);
    });
  });
  (Array.isArray(r.derive) ? r.derive : []).forEach((d, i) => {
    if (typeof d?.column !== 'string' || cc.dirty(['rules', 'derive', i, 'column'])) return;
    if (fields.has(d.column)) cc.report(['rules', 'derive', i, 'column'], `derived column '${d.column}' clashes with a schema field`);
  });
}
