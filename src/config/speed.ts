/**
 * `speed`: the stream the speed layer consumes (Kafka, the built-in
 * generator, or a followed NDJSON file) and how it batches, publishes and
 * archives.
 */
import { z } from 'zod';
import { duration } from './duration.js';
import { unknownVariant } from './issues.js';
import { location } from './location.js';
import { recordFormat } from './batch.js';

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const BROKER = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):\d{1,5}$/;

const topic = (description: string) =>
  z.string().regex(TOPIC, { error: (iss) => `invalid topic name '${String(iss.input)}': use 1–249 letters, digits, '.', '_' or '-'` }).meta({ description });

const kafka = z
  .strictObject({
    type: z.literal('kafka'),
    brokers: z
      .array(z.string().regex(BROKER, { error: (iss) => `invalid broker '${String(iss.input)}': use host:port` }))
      .min(1)
      .meta({ description: 'Bootstrap brokers, host:port (env KAFKA_BROKERS overrides, comma-separated).' }),
    topic: topic('The topic events are read from.'),
    group: z.string().min(1).meta({ description: 'Consumer group; more workers in one group share the partitions.' }),
    dlqTopic: topic('Where rejected records go (default <topic>.dlq).').optional(),
    clientId: z.string().min(1).default('pulse'),
  })
  .transform((k) => ({ ...k, dlqTopic: k.dlqTopic ?? `${k.topic}.dlq` }));

const generator = z.strictObject({
  type: z.literal('generator'),
  eventsPerSecond: z.number().positive().max(1_000_000).default(100).meta({ description: 'Rate of the built-in demo event generator.' }),
});

const file = z.strictObject({
  type: z.literal('file'),
  path: z.string().min(1).meta({ description: 'An NDJSON file followed like `tail -f`.' }),
});

export const speedSource = z.discriminatedUnion('type', [kafka, generator, file], {
  error: (iss) => (iss.code === 'invalid_union' ? unknownVariant('source type', ['kafka', 'generator', 'file'], iss.input) : undefined),
});

export const speed = z
  .strictObject({
    source: speedSource,
    format: recordFormat.default('ndjson').meta({ description: 'Record format of each message (csv: one record per message, columns in schema order).' }),
    allowedLateness: duration({ description: 'Events older than watermark − allowedLateness are rejected as late here and absorbed by the next batch run (default 1m).' }).prefault('1m'),
    publishInterval: duration({ min: 1, description: 'How often realtime snapshots are published (default 1s).' }).prefault('1s'),
    maxBatchRecords: z.number().int().positive().default(10_000).meta({ description: 'Records per micro-batch at most.' }),
    maxBatchWait: duration({ min: 1, description: 'Longest wait to fill a micro-batch (default 250ms).' }).prefault('250ms'),
    archive: location('Where raw messages are archived (default the batch source, so late events reach the next batch run).').optional(),
    viewStore: location('Where realtime snapshots are written (default the batch view store).').optional(),
  })
  .meta({ description: 'The speed layer.' });

export type SpeedInput = z.input<typeof speed>;
export type SpeedSource = z.output<typeof speedSource>;
