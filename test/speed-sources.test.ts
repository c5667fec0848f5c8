/**
 * The sources `pulse up` uses without Kafka — an NDJSON file followed like
 * `tail -f` and the built-in generator — through the same worker,
 * checkpoints and archive, on a local directory store.
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Pipeline, type PipelineSpec } from '../src/core/pipeline.js';
import type { Checkpoint } from '../src/speed/checkpoint.js';
import { StagedDeadLetterSink } from '../src/speed/dead-letter-sinks.js';
import { FileSource } from '../src/speed/file-source.js';
import type { Reading } from '../src/speed/generator.js';
import { ReadingGenerator } from '../src/speed/generator.js';
import { GeneratorSource } from '../src/speed/generator-source.js';
import type { SpeedStore } from '../src/speed/ports.js';
import { readJson } from '../src/speed/ports.js';
import type { EventSource } from '../src/speed/source.js';
import { SpeedWorker } from '../src/speed/worker.js';
import { openStore } from '../src/storage/index.js';
import { mergedViews, rows, waitFor } from './speed-support/kafka.js';
import { pipelineSpec, referenceDeviceMinutes } from './speed-support/spec.js';

let dir: string;
let store: SpeedStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pulse-speed-'));
  store = openStore(join(dir, 'store'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function worker(source: EventSource, spec: PipelineSpec = pipelineSpec(24 * 3600_000)): { worker: SpeedWorker; done: Promise<void> } {
  const w = new SpeedWorker({
    source,
    spec,
    createPipeline: (spec) => Pipeline.create(spec as Parameters<typeof Pipeline.create>[0]),
    mode: 'speed',
    stores: { views: store, archive: openStore(join(dir, 'lake')), errors: openStore(join(dir, 'errors')) },
    deadLetters: new StagedDeadLetterSink(source.topic),
    publishIntervalMs: 200,
    maxBatchWaitMs: 20,
  });
  const done = w.run();
  done.catch(() => {});
  return { worker: w, done };
}

async function checkpointAt(topic: string, offset: number): Promise<Checkpoint> {
  return waitFor(`checkpoint of ${topic} at ${offset}`, 30_000, async () => {
    const c = await readJson<Checkpoint>(store, `realtime/${topic}-0/checkpoint.json`);
    return c && Number(c.offset) >= offset ? c : undefined;
  });
}

async function objectLines(root: string, prefix: string): Promise<string[]> {
  const s = openStore(join(dir, root));
  const out: string[] = [];
  for await (const { key } of s.list(prefix)) out.push(...(await s.getBytes(key)).toString('utf8').split('\n').filter(Boolean));
  return out;
}

describe('followed NDJSON file', () => {
  it('applies appended lines once each, across a restart, with partial lines waiting for their newline', async () => {
    const path = join(dir, 'events.ndjson');
    const generator = new ReadingGenerator({ seed: 5, invalidShare: 0.1 });
    const lines: string[] = [];
    const invalid: string[] = [];
    const applied: Reading[] = [];
    const batch = (n: number): string => {
      const out = [];
      for (let i = 0; i < n; i++) {
        const g = generator.next(Date.now());
        lines.push(g.line);
        if (g.kind === 'valid') applied.push(g.reading);
        else invalid.push(g.line);
        out.push(`${g.line}\n`);
      }
      return out.join('');
    };
    await writeFile(path, batch(500));
    let run = worker(new FileSource({ path, pollMs: 20 }));
    const size = (): number => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    await checkpointAt('events.ndjson', size());
    // A line written in two steps is read only once complete.
    const more = batch(300);
    await appendFile(path, more.slice(0, more.length - 40));
    await appendFile(path, more.slice(more.length - 40));
    await checkpointAt('events.ndjson', size());
    await run.worker.stop();
    await run.done;

    await appendFile(path, batch(200));
    run = worker(new FileSource({ path, pollMs: 20 }));
    const checkpoint = await checkpointAt('events.ndjson', size());
    await run.worker.stop();
    await run.done;

    const merged = await mergedViews(store, pipelineSpec(24 * 3600_000), [checkpoint]);
    const device = rows(merged.query('device_1m', { from: 0, to: Number.MAX_SAFE_INTEGER }));
    const expected = referenceDeviceMinutes(applied);
    expect(device.length).toBe(expected.size);
    for (const row of device) expect(Number(row.n)).toBe(expected.get(`${row.window_start}|${row.device}`)?.n);
    expect((await objectLines('lake', 'source=file/topic=events.ndjson/')).sort()).toEqual([...lines].sort());
    const letters = (await objectLines('errors', 'speed/events.ndjson-0/')).map((l) => JSON.parse(l) as { value: string; reason: string; kind: string });
    expect(letters.map((l) => l.value).sort()).toEqual([...invalid].sort());
    for (const l of letters) expect(l.reason.length).toBeGreaterThan(0);
  });
});

describe('restored partition', () => {
  it("decides lateness with its checkpoint's watermark, even when the newest event never reached a view", async () => {
    const path = join(dir, 'late.ndjson');
    const spec = pipelineSpec(10 * 60_000);
    spec.views = spec.views.map((v) => ({ ...v, filter: "status = 'online'" }));
    const t0 = Math.floor(Date.now() / 60_000) * 60_000;
    const reading = (id: string, ts: number, status: string) => JSON.stringify({ id, ts, device: 'dev-001', site: 'site-1', temperature: 20, humidity: 40, battery: 80, status });
    // The newest event is idle: filtered out of every view, so no snapshot carries its time.
    await writeFile(path, `${reading('a', t0 - 3600_000, 'online')}\n${reading('b', t0, 'idle')}\n`);
    let run = worker(new FileSource({ path, pollMs: 20 }), spec);
    const first = await checkpointAt('late.ndjson', (await readFile(path)).length);
    expect(first.watermark).toBe(t0);
    await run.worker.stop();
    await run.done;

    await appendFile(path, `${reading('c', t0 - 1800_000, 'online')}\n`);
    run = worker(new FileSource({ path, pollMs: 20 }), spec);
    const second = await checkpointAt('late.ndjson', (await readFile(path)).length);
    await run.worker.stop();
    await run.done;
    expect(run.worker.counts.late).toBe(1);
    const letters = (await objectLines('errors', 'speed/late.ndjson-0/')).map((l) => JSON.parse(l) as { kind: string; value: string });
    expect(letters).toEqual([expect.objectContaining({ kind: 'late', value: reading('c', t0 - 1800_000, 'online') })]);
    const merged = await mergedViews(store, spec, [second]);
    expect(rows(merged.query('device_1m', { from: 0, to: Number.MAX_SAFE_INTEGER })).map((r) => r.window_start)).toEqual([t0 - 3600_000]);
  });
});

describe('built-in generator', () => {
  it('streams readings through the pipeline, checkpointing and archiving each one once', async () => {
    const run = worker(new GeneratorSource({ eventsPerSecond: 2000, seed: 9, invalidShare: 0.05 }));
    const first = await checkpointAt('generator', 1500);
    await run.worker.stop();
    await run.done;
    const last = (await readJson<Checkpoint>(store, 'realtime/generator-0/checkpoint.json'))!;
    expect(last.seq).toBeGreaterThan(first.seq - 1);
    const archived = await objectLines('lake', 'source=generator/topic=generator/');
    const letters = await objectLines('errors', 'speed/generator-0/');
    expect(archived.length).toBe(Number(last.offset));
    const ids = archived.flatMap((l) => /^\{"id":"([^"]+)"/.exec(l)?.[1] ?? []);
    expect(new Set(ids).size).toBe(ids.length);
    expect(run.worker.counts.applied + run.worker.counts.rejected).toBe(Number(last.offset));
    expect(letters.length).toBe(run.worker.counts.rejected);
  });
});
