/**
 * Builds the speed layer from a validated config: the source the config
 * names (Kafka, the generator, a followed file), the dead-letter sink that
 * goes with it, the stores, and the pipeline spec the batch layer uses too
 * (plus the allowed lateness). `pulse speed start`, `pulse speed archive`
 * and `pulse up` all start it through here.
 */
import type { Config } from '../config/config.js';
import { toNativeSpecs } from '../config/native.js';
import type { DeadLetterSink } from './dead-letters.js';
import { KafkaDeadLetterSink, StagedDeadLetterSink } from './dead-letter-sinks.js';
import { FileSource } from './file-source.js';
import { GeneratorSource } from './generator-source.js';
import { createKafka, KafkaSource } from './kafka-source.js';
import type { PipelineFactory, SpeedLogger, SpeedPipelineSpec, SpeedStore } from './ports.js';
import type { EventSource } from './source.js';
import type { SpeedWorkerOptions } from './worker.js';
import { SpeedWorker } from './worker.js';

export interface SpeedRuntimeOptions {
  config: Config;
  /** `speed`: views (and the archive unless `archive: false`); `archive`: the archiver alone. */
  mode: 'speed' | 'archive';
  /** Whether `speed` mode also archives raw messages (default true). */
  archive?: boolean;
  /** Consumer group (default: the config's; the archiver alone uses `<group>-archive`). */
  group?: string;
  openStore: (uri: string) => SpeedStore;
  createPipeline: PipelineFactory;
  logger: SpeedLogger;
  /** Anything else for the worker (timings, hooks). */
  overrides?: Partial<SpeedWorkerOptions>;
}

/** The pipeline spec of the speed layer: the config's specs with the stream's parser options and the lateness. */
export function speedPipelineSpec(config: Config, mode: 'speed' | 'archive'): SpeedPipelineSpec {
  const speed = config.speed;
  if (!speed) throw new Error('the config has no speed section');
  const specs = toNativeSpecs(config);
  return {
    schema: specs.schema,
    parse: specs.speedParse,
    rules: specs.rules,
    // The archiver alone keeps no views; it parses only to track event time.
    views: mode === 'speed' ? specs.views : [],
    ...(mode === 'speed' ? { allowedLatenessMs: speed.allowedLateness } : {}),
  };
}

export function createSpeedWorker(options: SpeedRuntimeOptions): SpeedWorker {
  const { config, mode, logger } = options;
  const speed = config.speed;
  if (!speed) throw new Error('the config has no speed section: add one (see docs/speed.md) or use `pulse up` for the embedded defaults');
  const src = speed.source;
  let source: EventSource;
  let deadLetters: DeadLetterSink | undefined;
  if (src.type === 'kafka') {
    const groupId = options.group ?? (mode === 'archive' ? `${src.group}-archive` : src.group);
    source = new KafkaSource({ brokers: src.brokers, topic: src.topic, groupId, clientId: src.clientId, logger });
    if (mode === 'speed') {
      const producer = createKafka({ brokers: src.brokers, clientId: `${src.clientId}-dlq`, logger }).producer({ allowAutoTopicCreation: true });
      deadLetters = new KafkaDeadLetterSink(producer, src.dlqTopic);
    }
  } else if (src.type === 'generator') {
    source = new GeneratorSource({ eventsPerSecond: src.eventsPerSecond });
    if (mode === 'speed') deadLetters = new StagedDeadLetterSink(source.topic);
  } else {
    source = new FileSource({ path: src.path, logger });
    if (mode === 'speed') deadLetters = new StagedDeadLetterSink(source.topic);
  }
  const archiving = mode === 'archive' || options.archive !== false;
  return new SpeedWorker({
    source,
    spec: speedPipelineSpec(config, mode),
    createPipeline: options.createPipeline,
    mode,
    stores: {
      ...(mode === 'speed' ? { views: options.openStore(speed.viewStore) } : {}),
      ...(archiving ? { archive: options.openStore(speed.archive) } : {}),
      ...(deadLetters instanceof StagedDeadLetterSink ? { errors: options.openStore(config.batch.errors) } : {}),
    },
    ...(deadLetters ? { deadLetters } : {}),
    publishIntervalMs: speed.publishInterval,
    maxBatchRecords: speed.maxBatchRecords,
    maxBatchWaitMs: speed.maxBatchWait,
    logger,
    ...options.overrides,
  });
}
