/**
 * A speed worker as its own process, for the crash suite: the suite starts
 * it, kills it with SIGKILL at random points, and starts it again. Options
 * come as one JSON argument. SIGTERM stops it gracefully (exit 0).
 */
import { Pipeline } from '../../src/core/pipeline.js';
import { KafkaDeadLetterSink } from '../../src/speed/dead-letter-sinks.js';
import { createKafka, KafkaSource } from '../../src/speed/kafka-source.js';
import { SpeedWorker } from '../../src/speed/worker.js';
import { openStore } from '../../src/storage/index.js';
import { pipelineSpec } from './spec.js';

export interface WorkerMainOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  views: string;
  archive: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as WorkerMainOptions;
const log = (msg: string, extra: object = {}): void => {
  process.stdout.write(JSON.stringify({ t: new Date().toISOString(), pid: process.pid, msg, ...extra }) + '\n');
};
const logger = {
  debug: () => {},
  info: (obj: object, msg?: string) => log(msg ?? '', obj),
  warn: (obj: object, msg?: string) => log(`WARN ${msg ?? ''}`, obj),
  error: (obj: object, msg?: string) => log(`ERROR ${msg ?? ''}`, obj),
};

const producer = createKafka({ brokers: options.brokers }).producer();
await producer.connect();
const worker = new SpeedWorker({
  source: new KafkaSource({
    brokers: options.brokers,
    topic: options.topic,
    groupId: options.groupId,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 10_000,
    maxWaitTimeMs: 100,
    logger,
  }),
  spec: pipelineSpec(),
  createPipeline: (spec) => Pipeline.create(spec as Parameters<typeof Pipeline.create>[0]),
  mode: 'speed',
  stores: { views: openStore(options.views), archive: openStore(options.archive) },
  deadLetters: new KafkaDeadLetterSink(producer, `${options.topic}.dlq`),
  publishIntervalMs: 300,
  maxBatchWaitMs: 50,
  maxBatchRecords: 2_000,
  leaseMs: 4_000,
  logger,
  onPublish: (e) => log('published', { checkpoints: e.checkpoints.map((c) => [c.partition, c.seq, c.offset]) }),
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void worker.stop().then(() => process.exit(0));
  });
}
// From here on SIGTERM is a graceful stop; before it, the default kill.
log('ready');
try {
  await worker.run();
} catch (err) {
  log(`ERROR fatal: ${(err as Error).message}`);
  process.exit(3);
}
