/**
 * Response shapes of the HTTP API as zod schemas: they document the API in
 * the OpenAPI output and type the handlers. Query answers are encoded by
 * `answer.ts` (once per version), so their schema documents, it does not
 * serialise.
 */
import { z } from 'zod';
import type { FieldType } from '../config/index.js';
import type { ViewDefinition } from './definition.js';

export const errorBody = z
  .object({
    statusCode: z.number().int(),
    error: z.string(),
    message: z.string(),
    issues: z
      .array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string(), code: z.string() }))
      .optional()
      .meta({ description: 'The zod issues, for 400s on parameters.' }),
  })
  .meta({ id: 'Error' });

const isoTime = z.string().meta({ description: 'ISO-8601, UTC' });
const nullableTime = isoTime.nullable();

export const freshnessBody = z
  .object({
    batchCoverageEnd: nullableTime.meta({ description: 'Coverage end T of the batch view: windows ending at or before it come from batch.' }),
    realtimeWatermark: nullableTime.meta({ description: 'The smallest watermark of the realtime partitions.' }),
    snapshotAgeMs: z.number().nullable().meta({ description: 'Age of the newest realtime snapshot when the answer was made.' }),
    completeThrough: nullableTime.meta({ description: 'Windows ending at or before this are final.' }),
  })
  .meta({ id: 'Freshness' });

function columnSchema(type: FieldType) {
  switch (type) {
    case 'string':
      return z.string().nullable();
    case 'bool':
      return z.boolean().nullable();
    case 'timestamp':
      return isoTime.nullable();
    case 'int64':
      return z.union([z.number().int(), z.string()]).nullable().meta({ description: 'Integers beyond ±2^53 are sent as decimal strings.' });
    case 'float64':
      return z.number().nullable();
  }
}

/** One result row of a view: window bounds, group fields, finalised measures, `complete`. */
export function rowSchema(definition: ViewDefinition) {
  const shape: Record<string, z.ZodType> = { window_start: isoTime, window_end: isoTime };
  for (const g of definition.groupFields) shape[g.name] = columnSchema(g.type);
  for (const m of definition.spec.measures) {
    const numeric = m.op === 'avg' || m.op === 'quantile' ? z.number().nullable() : z.union([z.number(), z.string()]).nullable();
    shape[m.name] = numeric.meta({ description: `${m.op}${m.field ? ` of ${m.field}` : ''}${m.q !== undefined ? ` (q = ${m.q})` : ''}` });
  }
  shape.complete = z.boolean().meta({ description: 'The watermark has passed the window end (plus allowed lateness): the numbers are final.' });
  return z.object(shape);
}

export function answerBody(definition: ViewDefinition) {
  return z.object({
    view: z.string(),
    from: isoTime,
    to: isoTime,
    granularity: z.string().nullable(),
    boundary: nullableTime.meta({ description: 'The time boundary T the answer was merged at.' }),
    rows: z.array(rowSchema(definition)),
    freshness: freshnessBody,
  });
}

const measureInfo = z.object({ name: z.string(), op: z.string(), field: z.string().optional() });

export const viewSummary = z
  .object({
    name: z.string(),
    window: z.record(z.string(), z.union([z.string(), z.number()])),
    groupBy: z.array(z.string()),
    measures: z.array(measureInfo),
    status: z.enum(['serving', 'loading', 'error']),
    problem: z.string().optional(),
    generation: z.number().int().nullable(),
    batchVersion: z.string().nullable(),
    batchCoverageEnd: nullableTime,
    realtimeWatermark: nullableTime,
    realtimePartitions: z.number().int(),
    snapshotAgeMs: z.number().nullable(),
  })
  .meta({ id: 'ViewSummary' });

export const viewList = z.object({ views: z.array(viewSummary) });

const partitionInfo = z.object({
  topic: z.string(),
  partition: z.number().int(),
  seq: z.number().int(),
  offset: z.string(),
  watermark: nullableTime,
  snapshotAt: isoTime,
  lag: z.number().int().nullable(),
});

export const freshnessReport = z.object({
  view: z.string(),
  ...freshnessBody.shape,
  consumerLag: z.number().int().nullable().meta({ description: 'Messages on the topic past the checkpointed offsets, all partitions (null without Kafka).' }),
  consumerLagError: z.string().optional(),
  batch: z
    .object({ version: z.string(), coverageEnd: isoTime, createdAt: z.string().nullable(), runId: z.string().nullable() })
    .nullable(),
  partitions: z.array(partitionInfo),
});
