/**
 * `schema`: the record layout every layer shares — field names, logical types,
 * nullability — and the event-time field windows bucket by.
 */
import { z } from 'zod';
import { describeInput } from './duration.js';
import { ALWAYS, hasIssueUnder } from './issues.js';

export const FIELD_TYPES = ['string', 'int64', 'float64', 'bool', 'timestamp'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Types whose values can be ordered and summed (timestamps are epoch milliseconds). */
export function isNumericType(type: FieldType): boolean {
  return type === 'int64' || type === 'float64' || type === 'timestamp';
}

export const fieldType = z.enum(FIELD_TYPES, {
  error: (iss) => `unknown type ${describeInput(iss.input)}: expected one of ${FIELD_TYPES.join(', ')}`,
});

const field = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Column name, as found in CSV headers and NDJSON keys.' }),
    type: fieldType,
    nullable: z.boolean().default(true).meta({ description: 'Whether the value may be missing or null (default true).' }),
    unit: z
      .enum(['ms', 's'])
      .optional()
      .meta({ description: 'Timestamps only: the epoch unit of bare numbers (default ms). ISO-8601 strings need an explicit offset.' }),
  })
  .superRefine((f, ctx) => {
    if (f.unit !== undefined && f.type !== 'timestamp') {
      ctx.addIssue({ code: 'custom', path: ['unit'], message: `only timestamp fields take a unit ('${f.name}' is ${f.type})` });
    }
  })
  .transform((f) => ({ ...f, unit: f.type === 'timestamp' ? (f.unit ?? 'ms') : undefined }));

export const recordSchema = z
  .strictObject({
    fields: z.array(field).min(1),
    eventTime: z.string().min(1).meta({ description: 'The non-nullable timestamp field that windows bucket events by.' }),
  })
  .superRefine((s, ctx) => {
    if (!Array.isArray(s.fields)) return;
    const seen = new Map<string, number>();
    s.fields.forEach((f, i) => {
      if (typeof f?.name !== 'string' || f.name === '') return;
      const first = seen.get(f.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'name'], message: `duplicate field name '${f.name}' (first defined at schema.fields.${first})` });
      } else {
        seen.set(f.name, i);
      }
    });
    if (typeof s.eventTime !== 'string' || s.eventTime === '') return;
    const index = seen.get(s.eventTime);
    if (index === undefined) {
      ctx.addIssue({ code: 'custom', path: ['eventTime'], message: `unknown field '${s.eventTime}'` });
      return;
    }
    if (hasIssueUnder(ctx.issues, ['fields', index])) return;
    const et = s.fields[index];
    if (et?.type !== 'timestamp') {
      ctx.addIssue({ code: 'custom', path: ['eventTime'], message: `field '${s.eventTime}' must have type timestamp, not ${String(et?.type)}` });
    } else if (et.nullable !== false) {
      ctx.addIssue({ code: 'custom', path: ['eventTime'], message: `field '${s.eventTime}' must be declared nullable: false` });
    }
  }, ALWAYS)
  .meta({ description: 'The record schema: ordered fields and the event-time field.' });

export type RecordSchemaInput = z.input<typeof recordSchema>;
export type RecordSchema = z.output<typeof recordSchema>;
export type Field = RecordSchema['fields'][number];

/** Field name → type, for cross-section checks; the type is `undefined` when the field's own type is invalid. */
export type KnownFields = ReadonlyMap<string, FieldType | undefined>;
