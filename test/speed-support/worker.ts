/** Starts a speed worker on the real broker for a test, with short timings. */
import { Pipeline } from '../../src/core/pipeline.js';
import { KafkaDeadLetterSink } from '../../src/speed/dead-letter-sinks.js';
import { KafkaSource, type KafkaSourceOptions } from '../../src/speed/kafka-source.js';
import type { SpeedLogger, SpeedStore } from '../../src/speed/ports.js';
import type { SpeedWorkerOptions } from '../../src/speed/worker.js';
import { SpeedWorker } from '../../src/speed/worker.js';
import { testKafka } from './kafka.js';
import { pipelineSpec } from './spec.js';

/** Worker logs on stderr, for debugging a suite (`PULSE_TEST_LOG=1`). */
function stderrLogger(topic: string): SpeedLogger {
  const line = (level: string) => (obj: object, msg?: string) => process.stderr.write(`${new Date().toISOString()} ${level} [${topic}] ${msg ?? ''} ${JSON.stringify(obj)}\n`);
  return { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') };
}

export interface TestWorker {
  worker: SpeedWorker;
  source: KafkaSource;
  /** Every pipeline the worker created, in order (restores included). */
  pipelines: Pipeline[];
  /** Settles when the worker stops. */
  done: Promise<void>;
}

export async function startWorker(options: {
  brokers: string[];
  topic: string;
  groupId: string;
  stores: { views: SpeedStore; archive?: SpeedStore };
  spec?: ReturnType<typeof pipelineSpec>;
  extra?: Partial<SpeedWorkerOptions>;
  source?: Partial<KafkaSourceOptions>;
}): Promise<TestWorker> {
  const producer = testKafka(options.brokers).producer();
  await producer.connect();
  const pipelines: Pipeline[] = [];
  const source = new KafkaSource({
    brokers: options.brokers,
    topic: options.topic,
    groupId: options.groupId,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 10_000,
    maxWaitTimeMs: 100,
    ...(process.env.PULSE_TEST_LOG ? { logger: stderrLogger(options.topic) } : {}),
    ...options.source,
  });
  const worker = new SpeedWorker({
    source,
    spec: options.spec ?? pipelineSpec(),
    createPipeline: (spec) => {
      const pipeline = Pipeline.create(spec as Parameters<typeof Pipeline.create>[0]);
      pipelines.push(pipeline);
      return pipeline;
    },
    mode: 'speed',
    stores: options.stores,
    deadLetters: new KafkaDeadLetterSink(producer, `${options.topic}.dlq`),
    publishIntervalMs: 300,
    maxBatchWaitMs: 50,
    boundaryPollMs: 200,
    leaseMs: 4_000,
    ...(process.env.PULSE_TEST_LOG ? { logger: stderrLogger(options.topic) } : {}),
    ...options.extra,
  });
  const done = worker.run();
  done.catch(() => {});
  return { worker, source, pipelines, done };
}
