import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configureLogger, createLogger, layerLogger, resolveLogLevel } from '../src/observability/logger.js';
import { counter, gauge, histogram, metricName, metricsText, registry } from '../src/observability/metrics.js';
import { BarProgress, LogProgress, createProgress, humanBytes } from '../src/observability/progress.js';

/** A pino destination that keeps every JSON line it is given. */
function collector(): { lines: Record<string, unknown>[]; write(line: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes JSON lines with the layer of a child logger', () => {
    const out = collector();
    const log = createLogger({ level: 'debug', destination: out });
    log.child({ layer: 'batch' }).debug({ objects: 3 }, 'listed the source');
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ level: 20, name: 'pulse', layer: 'batch', objects: 3, msg: 'listed the source' });
    expect(new Date(out.lines[0]?.time as string).toISOString()).toBe(out.lines[0]?.time);
  });

  it('drops lines below its level', () => {
    const out = collector();
    const log = createLogger({ level: 'warn', destination: out });
    log.info('quiet');
    log.warn('loud');
    expect(out.lines.map((l) => l.msg)).toEqual(['loud']);
  });

  it('gives layers children of the configured root logger', () => {
    const out = collector();
    configureLogger({ level: 'info', destination: out });
    layerLogger('speed', { worker: 2 }).info('started');
    expect(out.lines[0]).toMatchObject({ layer: 'speed', worker: 2, msg: 'started' });
  });

  it('takes the level from --log-level, then PULSE_LOG_LEVEL, then info', () => {
    expect(resolveLogLevel('debug', { PULSE_LOG_LEVEL: 'error' })).toBe('debug');
    expect(resolveLogLevel(undefined, { PULSE_LOG_LEVEL: 'ERROR' })).toBe('error');
    expect(resolveLogLevel(undefined, {})).toBe('info');
    expect(() => resolveLogLevel('loud', {})).toThrow("--log-level: unknown log level 'loud'");
    expect(() => resolveLogLevel(undefined, { PULSE_LOG_LEVEL: 'verbose' })).toThrow("PULSE_LOG_LEVEL: unknown log level 'verbose'");
  });
});

describe('metrics', () => {
  it('creates each pulse_ metric once and returns it afterwards', async () => {
    const a = counter('test_rows_total', 'rows seen', ['layer']);
    const b = counter('pulse_test_rows_total', 'rows seen', ['layer']);
    expect(b).toBe(a);
    a.inc({ layer: 'batch' }, 3);
    b.inc({ layer: 'batch' }, 2);
    const { body, contentType } = await metricsText();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toContain('# HELP pulse_test_rows_total rows seen');
    expect(body).toContain('pulse_test_rows_total{layer="batch"} 5');
  });

  it('refuses a second metric of another kind or other labels under one name', () => {
    gauge('test_lag', 'consumer lag', ['partition']);
    expect(() => counter('test_lag', 'consumer lag', ['partition'])).toThrow('metric pulse_test_lag already exists as a gauge, not a counter');
    expect(() => gauge('test_lag', 'consumer lag', ['topic'])).toThrow('metric pulse_test_lag already exists with labels [partition], not [topic]');
  });

  it('records histograms with the buckets given first', async () => {
    const h = histogram('test_batch_seconds', 'micro-batch duration', [], [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    expect(histogram('test_batch_seconds', 'micro-batch duration')).toBe(h);
    const body = (await metricsText()).body;
    expect(body).toContain('pulse_test_batch_seconds_bucket{le="0.1"} 1');
    expect(body).toContain('pulse_test_batch_seconds_bucket{le="1"} 2');
    expect(body).toContain('pulse_test_batch_seconds_count 2');
  });

  it('serves the default process metrics from the shared registry', async () => {
    expect(metricName('x')).toBe('pulse_x');
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(names).toContain('nodejs_heap_size_used_bytes');
  });
});

describe('progress', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs a line per interval and a summary when not on a terminal', () => {
    vi.useFakeTimers();
    const out = collector();
    const progress = createProgress({ label: 'batch run', logger: createLogger({ destination: out }), tty: false, intervalMs: 1000, now: () => Date.now() });
    expect(progress).toBeInstanceOf(LogProgress);
    progress.start({ items: 4, bytes: 4096 });
    progress.update({ items: 1, bytes: 1024, rows: 50, rejects: 1 });
    vi.advanceTimersByTime(1000);
    progress.update({ items: 2, bytes: 2048, rows: 200, rejects: 0 });
    vi.advanceTimersByTime(1000);
    progress.update({ items: 1, bytes: 1024, rows: 50 });
    const final = progress.stop();
    vi.advanceTimersByTime(5000);

    expect(out.lines.map((l) => l.msg)).toEqual([
      'batch run: started',
      'batch run: 1/4 items, 1.0 KiB, 50 rows (50 rows/s), 1 rejects',
      'batch run: 3/4 items, 3.0 KiB, 250 rows (125 rows/s), 1 rejects',
      'batch run: done',
    ]);
    expect(out.lines[1]?.progress).toEqual({
      label: 'batch run',
      items: 1,
      bytes: 1024,
      rows: 50,
      rejects: 1,
      totalItems: 4,
      totalBytes: 4096,
      elapsedMs: 1000,
      rowsPerSec: 50,
      intervalRowsPerSec: 50,
    });
    expect(out.lines[2]?.progress).toMatchObject({ rows: 250, rowsPerSec: 125, intervalRowsPerSec: 200 });
    expect(final).toEqual({ items: 4, bytes: 4096, rows: 300, rejects: 1, totalItems: 4, totalBytes: 4096, elapsedMs: 2000, rowsPerSec: 150 });
    expect(out.lines[3]?.progress).toMatchObject({ items: 4, rows: 300, elapsedMs: 2000 });
  });

  it('works without totals', () => {
    vi.useFakeTimers();
    const out = collector();
    const progress = createProgress({ label: 'replay', logger: createLogger({ destination: out }), tty: false, intervalMs: 500, now: () => Date.now() });
    progress.start();
    progress.update({ items: 2, rows: 10 });
    vi.advanceTimersByTime(500);
    expect(out.lines[1]?.msg).toBe('replay: 2 items, 0 B, 10 rows (20 rows/s), 0 rejects');
    expect(progress.stop()).toMatchObject({ items: 2, totalItems: undefined, totalBytes: undefined });
  });

  it('draws a bar with items, bytes, rate and rejects on a terminal', () => {
    let drawn = '';
    const stream = Object.assign(
      new Writable({
        write(chunk: Buffer, _enc, done) {
          drawn += chunk.toString();
          done();
        },
      }),
      { isTTY: true, columns: 200 },
    ) as unknown as NodeJS.WriteStream;
    let clock = 0;
    const progress = createProgress({ label: 'batch run', logger: createLogger({ destination: collector() }), stream, now: () => clock });
    expect(progress).toBeInstanceOf(BarProgress);
    progress.start({ items: 2, bytes: 2048 });
    clock = 2000;
    progress.update({ items: 2, bytes: 2048, rows: 1000, rejects: 3 });
    progress.stop();
    expect(drawn).toContain('batch run');
    expect(drawn).toContain('100%');
    expect(drawn).toContain('2/2 items');
    expect(drawn).toContain('2.0 KiB/2.0 KiB');
    expect(drawn).toContain('500 rows/s');
    expect(drawn).toContain('3 rejects');
  });

  it('prints sizes for people', () => {
    expect(humanBytes(0)).toBe('0 B');
    expect(humanBytes(1536)).toBe('1.5 KiB');
    expect(humanBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });
});
