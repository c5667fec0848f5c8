/**
 * `pulse batch schedule`'s loop: real batch runs on a cron (every second,
 * over a local folder), never two at once, ticks skipped while a run is
 * going, and a stop that waits for the current run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchJobFromConfig } from '../src/batch/from-config.js';
import { runBatch, type RunResult } from '../src/batch/run.js';
import { runSchedule } from '../src/batch/schedule.js';
import type { BatchJob } from '../src/batch/job.js';
import { openStore } from '../src/storage/index.js';
import { createLogger } from '../src/observability/logger.js';
import { ndjson, readings, testConfig } from './support/batch.js';

const log = createLogger({ level: 'silent' });

describe('batch schedule', () => {
  let dir: string;
  let job: BatchJob;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-schedule-'));
    job = batchJobFromConfig(testConfig({ source: join(dir, 'raw'), viewStore: join(dir, 'store'), concurrency: 2 }));
    const raw = openStore(job.source);
    for (let i = 0; i < 3; i++) await raw.put(`part-${i}.ndjson`, ndjson(readings(i, 500)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs on every tick, skips ticks while a run is going, and stops after the current run', async () => {
    const stop = new AbortController();
    let running = 0;
    let overlapped = false;
    const ends: RunResult[] = [];
    const summary = await runSchedule({
      cron: '* * * * * *',
      log,
      signal: stop.signal,
      // Each run takes at least 1.5 s, so the tick a second later finds it still going.
      runOnce: async () => {
        running++;
        if (running > 1) overlapped = true;
        try {
          const [result] = await Promise.all([runBatch(job, { log }), new Promise((r) => setTimeout(r, 1500))]);
          return result;
        } finally {
          running--;
        }
      },
      onRunEnd: (r) => {
        ends.push(r);
        if (ends.length === 2) stop.abort();
      },
    });
    expect(overlapped).toBe(false);
    expect(summary.runs).toBe(2);
    expect(summary.skipped).toBeGreaterThanOrEqual(1);
    expect(ends.map((r) => r.exitCode)).toEqual([0, 0]);
    expect(running).toBe(0);
  }, 30_000);

  it('stops at once when no run is going', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const summary = await runSchedule({ cron: '0 2 * * *', log, signal: stop.signal, runOnce: () => runBatch(job, { log }) });
    expect(summary).toEqual({ runs: 0, skipped: 0 });
  });
});
