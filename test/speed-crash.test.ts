/**
 * Crash safety: the speed worker runs as a child process and is killed
 * with SIGKILL at random points while events stream in, then started
 * again. Once the topic is drained, the views and the archived master
 * dataset hold every event exactly once, and every rejected message is on
 * the DLQ (at least once: a replay can repeat a letter).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../src/speed/checkpoint.js';
import { DLQ_HEADERS } from '../src/speed/dead-letters.js';
import { readJson } from '../src/speed/ports.js';
import { openStore } from '../src/storage/index.js';
import { createTestBucket, type TestBucket } from './support/s3.js';
import { kafkaBrokers, uniqueName } from './support/services.js';
import { archivedLines, createTopic, endOffsets, mergedViews, produceAll, readTopic, rows, testKafka, testProducer, waitForDrain } from './speed-support/kafka.js';
import { Scenario } from './speed-support/scenario.js';
import { LATENESS_MS, pipelineSpec, referenceDeviceMinutes } from './speed-support/spec.js';
import type { WorkerMainOptions } from './speed-support/worker-main.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PARTITIONS = 3;
const KILLS = 6;

function spawnWorker(options: WorkerMainOptions, log: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/speed-support/worker-main.ts', JSON.stringify(options)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (t: string) => log.push(...t.split('\n').filter(Boolean)));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => log.push(...t.split('\n').filter(Boolean).map((l) => `stderr: ${l}`)));
  return child;
}

/** Waits (bounded) until a worker spawned after `from` log lines logs `text`. */
async function logged(log: string[], from: number, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!log.slice(from).some((line) => line.includes(text))) {
    if (Date.now() > deadline) throw new Error(`worker did not log ${text} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('speed layer crash safety', () => {
  const brokers = kafkaBrokers();
  let kafka: Kafka;
  let admin: Admin;
  let bucket: TestBucket;

  beforeAll(async () => {
    kafka = testKafka(brokers);
    admin = kafka.admin();
    await admin.connect();
    bucket = await createTestBucket('speed-crash');
  });

  afterAll(async () => {
    await admin?.disconnect();
    await bucket?.remove();
  });

  it(`keeps views and archive exactly once across ${KILLS} kill -9 at random points`, { timeout: 600_000 }, async () => {
    const topic = uniqueName('speed-crash');
    await createTopic(admin, topic, PARTITIONS);
    const options: WorkerMainOptions = { brokers, topic, groupId: `${topic}-g`, views: `s3://${bucket.name}/store`, archive: `s3://${bucket.name}/lake/raw` };
    const views = openStore(options.views);
    const archive = openStore(options.archive);
    const scenario = new Scenario(PARTITIONS, 21);
    const producer = testProducer(kafka);
    await producer.connect();
    const log: string[] = [];

    // A steady stream for the whole run, with empty and late messages mid-way.
    let producing = true;
    const stream = (async () => {
      for (let round = 0; producing; round++) {
        await produceAll(producer, topic, scenario.readings(300));
        if (round === 20) await produceAll(producer, topic, [...scenario.emptyMessages(), ...scenario.lateReadings(3, 2 * 3600_000)]);
        await sleep(200);
      }
    })();

    const progress: number[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const from = log.length;
        const child = spawnWorker(options, log);
        // Random points. Even kills land anywhere from start-up through the
        // group join and restore; odd kills land while processing or
        // checkpointing, a random moment after this worker's first publish,
        // so every other run is known to have made progress.
        if (kill % 2 === 0) await sleep(1_000 + Math.random() * 9_000);
        else {
          await logged(log, from, '"msg":"published"', 90_000);
          await sleep(Math.random() * 2_000);
        }
        child.kill('SIGKILL');
        await exited(child);
        const seqs = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => readJson<Checkpoint>(views, `realtime/${topic}-${p}/checkpoint.json`)));
        progress.push(seqs.reduce((sum, c) => sum + (c?.seq ?? 0), 0));
      }
      producing = false;
      await stream;
      const lastFrom = log.length;
      const last = spawnWorker(options, log);
      let checkpoints: Checkpoint[];
      try {
        checkpoints = await waitForDrain(views, admin, topic, 120_000);
        // The earlier runs may have drained the topic already: stop this
        // worker gracefully only once it handles SIGTERM.
        await logged(log, lastFrom, '"msg":"ready"', 60_000);
      } finally {
        last.kill('SIGTERM');
      }
      expect(await exited(last)).toBe(0);

      // The runs between kills made progress (the kills did not all land before any work).
      expect(progress[progress.length - 1]).toBeGreaterThan(0);
      expect(new Set(progress).size).toBeGreaterThan(1);

      const { applied, late } = scenario.outcome(LATENESS_MS);
      expect(late.size).toBe(3 * PARTITIONS);
      const merged = await mergedViews(views, pipelineSpec(), checkpoints);
      const device = rows(merged.query('device_1m', { from: 0, to: Number.MAX_SAFE_INTEGER }));
      const expected = referenceDeviceMinutes(applied);
      expect(device.reduce((n, r) => n + Number(r.n), 0)).toBe(applied.length);
      expect(device.length).toBe(expected.size);
      for (const row of device) {
        const ref = expected.get(`${row.window_start}|${row.device}`)!;
        expect([Number(row.n), Number(row.charge), row.lo, row.hi]).toEqual([ref.n, ref.charge, ref.lo, ref.hi]);
      }

      // Archive: each offset once, in order, every non-empty message's exact bytes.
      const objects = await archivedLines(archive, topic);
      const ends = await endOffsets(admin, topic);
      for (let p = 0; p < PARTITIONS; p++) {
        const mine = objects.filter((o) => o.partition === p).sort((a, b) => a.first - b.first);
        let next = 0;
        for (const o of mine) {
          expect(o.first, `archive object ${o.key}`).toBe(next);
          next = o.last + 1;
        }
        expect(next).toBe(ends.get(p));
        expect(mine.flatMap((o) => o.lines)).toEqual(scenario.sent.filter((s) => s.partition === p && s.value?.trim()).map((s) => s.value));
      }

      // DLQ: every rejected message at least once, nothing else.
      const dlq = await readTopic(kafka, admin, `${topic}.dlq`);
      const lettered = new Set(dlq.map((m) => `${m.headers[DLQ_HEADERS.sourcePartition]}/${m.headers[DLQ_HEADERS.sourceOffset]}`));
      const rejected = new Set(scenario.sent.filter((s) => s.expect !== 'apply').map((s) => `${s.partition}/${s.offset}`));
      expect(lettered).toEqual(rejected);
    } catch (err) {
      console.error(log.slice(-60).join('\n'));
      throw err;
    } finally {
      producing = false;
      await stream.catch(() => {});
      await producer.disconnect();
    }
  });
});
