/**
 * The speed layer against the real broker:
 *
 * - sustained throughput: a pre-filled topic consumed by the whole speed
 *   layer (micro-batches through the native pipeline with the demo views,
 *   dead letters, checkpoints and the archive on a local directory) and,
 *   in the same run and on the same topic, by a kafkajs consumer that does
 *   nothing with the messages — the ceiling the client sets;
 * - freshness: events produced at a fixed rate by a separate process, and
 *   the time from each event's Kafka timestamp to the publish of the
 *   checkpoint that includes it (p50, p99).
 *
 * Starts the test broker (scripts/services.sh) when it is not running.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { Pipeline, type PipelineSpec } from '../../src/core/pipeline.js';
import { KafkaDeadLetterSink } from '../../src/speed/dead-letter-sinks.js';
import { createKafka, KafkaSource } from '../../src/speed/kafka-source.js';
import { produce } from '../../src/speed/produce.js';
import { speedPipelineSpec } from '../../src/speed/runtime.js';
import type { PublishEvent } from '../../src/speed/worker.js';
import { SpeedWorker } from '../../src/speed/worker.js';
import { openStore } from '../../src/storage/index.js';
import type { BenchContext, Measurement, Suite } from '../lib/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PARTITIONS = 3;
/**
 * Fetch settings of both consumers, so the comparison is like for like:
 * 1 MiB per partition per fetch (the kafkajs default and KafkaSource's),
 * fetches held at most 100 ms when empty; kafkajs defaults otherwise
 * (maxBytes 10 MiB, minBytes 1).
 */
const FETCH = { maxBytesPerPartition: 1 << 20, maxWaitTimeMs: 100 };

function ensureBroker(): string[] {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
  const started = spawnSync('bash', ['scripts/services.sh', 'start', 'kafka'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  if (started.status !== 0) throw new Error(`cannot start the Kafka broker: ${started.stderr}`);
  return brokers;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function createTopic(brokers: string[], topic: string): Promise<void> {
  const admin = createKafka({ brokers }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

/** Time for a do-nothing kafkajs consumer to read `total` messages, from its first batch. */
async function noopConsume(brokers: string[], topic: string, total: number): Promise<number> {
  const consumer = createKafka({ brokers }).consumer({
    groupId: `bench-noop-${Date.now()}`,
    maxBytesPerPartition: FETCH.maxBytesPerPartition,
    maxWaitTimeInMs: FETCH.maxWaitTimeMs,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (first === 0) first = performance.now();
      seen += batch.messages.length;
      resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
      if (seen >= total) done();
    },
  });
  await finished;
  const ms = performance.now() - first;
  await consumer.disconnect();
  return ms;
}

/** Runs `fn`, returning its result and the process CPU time it took (user + system, ms). */
async function withCpu<T>(fn: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(before);
  return { value, cpuMs: (used.user + used.system) / 1000 };
}

interface SpeedRun {
  worker: SpeedWorker;
  published: PublishEvent[];
  offsets: Map<number, number>;
  cleanup: () => Promise<void>;
}

async function startSpeed(brokers: string[], topic: string, spec: PipelineSpec, onPublish?: (e: PublishEvent) => void): Promise<SpeedRun> {
  const dir = await mkdtemp(join(tmpdir(), 'pulse-bench-speed-'));
  const offsets = new Map<number, number>();
  const published: PublishEvent[] = [];
  const producer = createKafka({ brokers }).producer();
  const worker = new SpeedWorker({
    source: new KafkaSource({ brokers, topic, groupId: `bench-speed-${Date.now()}`, ...FETCH }),
    spec,
    createPipeline: (s) => Pipeline.create(s as PipelineSpec),
    mode: 'speed',
    stores: { views: openStore(join(dir, 'store')), archive: openStore(join(dir, 'raw')) },
    deadLetters: new KafkaDeadLetterSink(producer, `${topic}.dlq`),
    onPublish: (e) => {
      for (const c of e.checkpoints) offsets.set(c.partition, Number(c.offset));
      published.push(e);
      onPublish?.(e);
    },
  });
  const running = worker.run();
  running.catch(() => {});
  return {
    worker,
    published,
    offsets,
    cleanup: async () => {
      await worker.stop();
      await running;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Time for the speed layer to process `total` messages through the
 * pipeline (dead letters included), from the first one received; then it
 * waits for the checkpoints to cover them all, which the publish interval
 * paces, not the throughput.
 */
async function speedConsume(brokers: string[], topic: string, total: number, spec: PipelineSpec): Promise<number> {
  const run = await startSpeed(brokers, topic, spec);
  try {
    while (run.worker.counts.messages === 0) await sleep(2);
    const first = performance.now();
    while (run.worker.counts.processed < total) await sleep(2);
    const ms = performance.now() - first;
    while ([...run.offsets.values()].reduce((a, b) => a + b, 0) < total) await sleep(20);
    return ms;
  } finally {
    await run.cleanup();
  }
}

/** Freshness while a separate process produces at `rate` events/s for `seconds`. */
async function freshness(brokers: string[], topic: string, rate: number, seconds: number, spec: PipelineSpec) {
  await createTopic(brokers, topic);
  const stamps: number[] = [];
  const warmUntil = Date.now() + 3_000;
  const run = await startSpeed(brokers, topic, spec, (e) => {
    for (const ts of e.messageTimestamps.values()) for (const t of ts) if (t >= warmUntil) stamps.push(e.publishedAt - t);
  });
  try {
    while (run.worker.ownedPartitions().length < PARTITIONS) await sleep(50);
    const producer = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'produce', '--rate', String(rate), '--duration', `${seconds}s`, '--topic', topic, '--brokers', brokers.join(','), '--invalid-share', '0.02'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PULSE_LOG_LEVEL: 'warn' } },
    );
    let out = '';
    producer.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve) => producer.once('exit', () => resolve()));
    const report = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { sent: number; eventsPerSecond: number };
    while ([...run.offsets.values()].reduce((a, b) => a + b, 0) < report.sent) await sleep(20);
    const sorted = Float64Array.from(stamps).sort();
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), produced: report.eventsPerSecond, samples: sorted.length };
  } finally {
    await run.cleanup();
  }
}

const suite: Suite = {
  name: 'speed',
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const brokers = ensureBroker();
    const spec = speedPipelineSpec((await loadConfig({ cwd: tmpdir() })).config, 'speed') as PipelineSpec;
    const total = ctx.quick ? 200_000 : 1_000_000;
    const topic = `bench-speed-${Date.now()}`;
    await createTopic(brokers, topic);
    process.stderr.write(`  producing ${total} events to ${topic}…\n`);
    await produce({ brokers, topic, mode: { kind: 'max' }, count: total, batchSize: 2_000, inFlight: 8, invalidShare: 0.02, seed: 1 });

    const runs = ctx.quick ? 2 : 3;
    const noop: number[] = [];
    const speed: number[] = [];
    const cpu = { noop: 0, speed: 0 };
    for (let i = 0; i < runs; i++) {
      const n = await withCpu(() => noopConsume(brokers, topic, total));
      const s = await withCpu(() => speedConsume(brokers, topic, total, spec));
      noop.push(n.value);
      speed.push(s.value);
      cpu.noop += n.cpuMs;
      cpu.speed += s.cpuMs;
      process.stderr.write(`  run ${i + 1}: no-op ${(total / (n.value / 1000)).toFixed(0)} ev/s, speed layer ${(total / (s.value / 1000)).toFixed(0)} ev/s\n`);
    }
    // CPU per run includes group joins and, for the speed layer, the wait for the last checkpoint.
    const perCpuSecond = (ms: number) => `${((total * runs) / (ms / 1000) / 1000).toFixed(0)}k events per CPU-second`;
    const row = (subject: string, times: number[], note: string): Measurement => {
      const medianMs = median(times);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      const sd = Math.sqrt(times.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, times.length - 1));
      return { suite: 'speed', case: `consume ${total / 1000}k events`, subject, baseline: 'speed layer', medianMs, samples: times.length, rme: (sd / mean) * 100, rows: total, rowsPerSec: total / (medianMs / 1000), note };
    };
    const results = [
      row('speed layer', speed, `demo views (tumbling, hopping, session; avg, quantile, distinct), rules, DLQ, archive, checkpoints every 1 s; ${perCpuSecond(cpu.speed)}`),
      row('kafkajs no-op consumer', noop, `eachBatch that only resolves offsets: the client ceiling; ${perCpuSecond(cpu.noop)}`),
    ];

    const rate = ctx.quick ? 20_000 : 50_000;
    const seconds = ctx.quick ? 10 : 30;
    const fresh = await freshness(brokers, `${topic}-fresh`, rate, seconds, spec);
    process.stderr.write(`  freshness at ${fresh.produced.toFixed(0)} ev/s: p50 ${fresh.p50.toFixed(0)} ms, p99 ${fresh.p99.toFixed(0)} ms (${fresh.samples} events)\n`);
    results.push({
      suite: 'speed',
      case: `freshness @ ${rate / 1000}k events/s`,
      subject: 'speed layer (p50)',
      baseline: 'speed layer (p50)',
      medianMs: fresh.p50,
      samples: fresh.samples,
      rme: 0,
      note: `p99 ${fresh.p99.toFixed(0)} ms; produced ${fresh.produced.toFixed(0)} events/s for ${seconds} s; event produced → visible in a published snapshot`,
    });
    return results;
  },
};

export default suite;
