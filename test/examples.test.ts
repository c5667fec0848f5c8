/**
 * The example pipelines in `examples/`: every config validates and compiles
 * in the native core, every generator is deterministic, its valid rows pass
 * the example's rules and its invalid lines are all rejected (through the
 * real fused pipeline), the payments audit sample is rejected line by line,
 * and the runner's history and live writers lay data out as the layers read it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Table } from 'apache-arrow';
import type { CliIO } from '../src/cli/context.js';
import { runCli } from '../src/cli/program.js';
import { loadConfig, toNativeSpecs, type Config } from '../src/config/index.js';
import { REJECT_CODES } from '../src/core/parser.js';
import { Pipeline, type PipelineReject, type PushReport } from '../src/core/pipeline.js';
import type { RulesSpec } from '../src/core/rules.js';
import { EXAMPLE_NAMES, drawLines, type ExampleGenerator, type ExampleName } from '../examples/shared/generator.js';
import { generatorOf } from '../examples/shared/registry.js';
import { HISTORY_BLOCK_MS, hasHistory, historyKey, writeHistory } from '../examples/shared/history.js';
import { LiveAppender } from '../examples/shared/live.js';
import { seededRng } from '../examples/shared/random.js';

const repoRoot = join(import.meta.dirname, '..');
/** A fixed event time (2026-03-02T09:00:00Z), so failures reproduce. */
const T0 = Date.UTC(2026, 2, 2, 9);

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pulse-examples-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function exampleConfig(name: ExampleName): Promise<Config> {
  return (await loadConfig({ file: join(repoRoot, 'examples', name, 'pulse.config.yaml'), env: {} })).config;
}

/** `n` draws (valid rows, then invalid lines) from a fresh stream of `seed`. */
function sample(gen: ExampleGenerator, seed: number, n: number): { valid: string[]; invalid: string[] } {
  const rng = seededRng(seed);
  const valid: string[] = [];
  const invalid: string[] = [];
  for (let i = 0; i < n; i++) {
    const event = gen.event(rng, T0 + i * 250);
    valid.push(...(gen.rows ? gen.rows(event) : [event]).map((r) => JSON.stringify(r)));
    invalid.push(gen.invalid(rng, T0 + i * 250));
  }
  return { valid, invalid };
}

/** The example's pipeline as both data layers build it: `toNativeSpecs(config)` with the batch parser options. */
function pipelineFor(config: Config): Pipeline {
  const specs = toNativeSpecs(config);
  // The config types a check as one object with optional kinds (zod checks there is exactly one); the core's type is a union.
  return Pipeline.create({ schema: specs.schema, parse: specs.batchParse, rules: specs.rules as RulesSpec, views: specs.views });
}

interface Outcome {
  records: number;
  applied: number;
  warned: number;
  rejects: PipelineReject[];
}

/** Pushes the lines as one stream, in chunks of `chunkBytes`, and finishes it; the reports summed. */
function runLines(pipeline: Pipeline, lines: readonly string[], chunkBytes = 64 * 1024): Outcome {
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  const out: Outcome = { records: 0, applied: 0, warned: 0, rejects: [] };
  const add = (r: PushReport) => {
    out.records += r.records;
    out.applied += r.applied;
    out.warned += r.warned;
    out.rejects.push(...r.rejects);
  };
  for (let at = 0; at < bytes.length; at += chunkBytes) add(pipeline.push(bytes.subarray(at, at + chunkBytes)));
  add(pipeline.finish());
  return out;
}

/** A query result as plain objects (int64 columns as numbers). */
function rowsOf(table: Table): Record<string, unknown>[] {
  return table.toArray().map((r) =>
    Object.fromEntries(Object.entries((r as { toJSON(): Record<string, unknown> }).toJSON()).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
  );
}

function total(rows: readonly Record<string, unknown>[], column: string): number {
  return rows.reduce((sum, r) => sum + Number(r[column] ?? 0), 0);
}

/** Valid rows of `draws` events from `seed`, `stepMs` apart from `start`. */
function validRows(gen: ExampleGenerator, seed: number, draws: number, start = T0, stepMs = 250): Record<string, unknown>[] {
  const rng = seededRng(seed);
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < draws; i++) {
    const event = gen.event(rng, start + i * stepMs);
    rows.push(...(gen.rows ? gen.rows(event) : [event]));
  }
  return rows;
}

const describeReject = (r: PipelineReject) => `line ${r.line}: ${r.kind} [${r.ruleIds.join(', ')}] ${r.reason} — ${r.raw ?? ''}`;

/** Whether a JSON value fits a schema field type as the NDJSON parser reads it (docs/native-contract.md). */
function fitsType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'int64':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'float64':
      return typeof value === 'number' && Number.isFinite(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'timestamp':
      return typeof value === 'number' && Number.isSafeInteger(value);
    default:
      return false;
  }
}

describe.each(EXAMPLE_NAMES)('example %s', (name) => {
  let config: Config;
  let gen: ExampleGenerator;
  beforeAll(async () => {
    config = await exampleConfig(name);
    gen = generatorOf(name);
  });

  it('has a config that validates, with its lake, store and live file under examples/<name>/.data/', () => {
    const data = join(repoRoot, 'examples', name, '.data');
    expect(config.batch.source).toBe(`${data}/lake/raw/`);
    expect(config.batch.viewStore).toBe(`${data}/store/`);
    expect(config.speed?.source).toEqual({ type: 'file', path: join(data, 'live.ndjson') });
    expect(config.serving).toMatchObject({ host: '127.0.0.1', port: 8080 });
    const specs = toNativeSpecs(config);
    expect(specs.views.length).toBeGreaterThanOrEqual(3);
    expect(specs.rules.checks.length).toBeGreaterThanOrEqual(4);
  });

  it('has a README with the run command and curl queries for its views', async () => {
    const readme = await readFile(join(repoRoot, 'examples', name, 'README.md'), 'utf8');
    expect(readme).toContain(`npm run example -- ${name}`);
    const queried = [...readme.matchAll(/curl [^\n]*\/v1\/views\/([a-z0-9_]+)/g)].map((m) => m[1]);
    expect(queried.length).toBeGreaterThanOrEqual(3);
    const viewNames = config.views.map((v) => v.name);
    for (const view of queried) expect(viewNames).toContain(view);
  });

  it('generates the same lines from the same seed, and other lines from another', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const a = sample(gen, seed, 40);
        expect(sample(gen, seed, 40)).toEqual(a);
        expect(sample(gen, seed + 1, 40).valid).not.toEqual(a.valid);
      }),
      { numRuns: 25 },
    );
  });

  it('generates rows whose values have the schema types, with the event time given', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: T0 - 86_400_000 * 365, max: T0 + 86_400_000 * 365 }), (seed, ts) => {
        const rng = seededRng(seed);
        const event = gen.event(rng, ts);
        for (const row of gen.rows ? gen.rows(event) : [event]) {
          expect(row[config.schema.eventTime]).toBe(ts);
          for (const field of config.schema.fields) {
            const value = row[field.name];
            if (value === null || value === undefined) expect(field.nullable, `${field.name} is null`).toBe(true);
            else expect(fitsType(value, field.type), `${field.name} = ${JSON.stringify(value)} is not ${field.type}`).toBe(true);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('compiles in the native core, with every view of the config', () => {
    expect(pipelineFor(config).viewNames().sort()).toEqual(config.views.map((v) => v.name).sort());
  });

  it('generates valid rows that all pass the rules, whatever the seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: T0 - 86_400_000 * 365, max: T0 + 86_400_000 * 365 }), (seed, start) => {
        const lines = validRows(gen, seed, 300, start).map((r) => JSON.stringify(r));
        const out = runLines(pipelineFor(config), lines);
        expect(out.rejects.map(describeReject)).toEqual([]);
        expect(out.applied).toBe(lines.length);
      }),
      { numRuns: 20 },
    );
  });

  it('generates invalid lines that are all rejected, each with its reason', () => {
    const rng = seededRng(11);
    const lines = Array.from({ length: 600 }, (_, i) => gen.invalid(rng, T0 + i * 250));
    const out = runLines(pipelineFor(config), lines);
    expect(out.applied).toBe(0);
    expect(out.rejects.map((r) => r.line)).toEqual(lines.map((_, i) => i + 1));
    const errorRules = new Set(config.rules.checks.filter((c) => c.severity === 'error').map((c) => c.id));
    const kinds = new Set<string>();
    for (const r of out.rejects) {
      expect(r.reason.length, describeReject(r)).toBeGreaterThan(0);
      if (r.kind === 'rule_failed') {
        expect(r.ruleIds.length, describeReject(r)).toBeGreaterThan(0);
        for (const id of r.ruleIds) expect(errorRules, describeReject(r)).toContain(id);
        r.ruleIds.forEach((id) => kinds.add(id));
      } else {
        expect(REJECT_CODES as readonly string[], describeReject(r)).toContain(r.kind);
        kinds.add(r.kind);
      }
    }
    // All three ways to be rejected occur: broken JSON, a wrong type, a failed rule.
    expect(kinds).toContain('malformed_json');
    expect(kinds).toContain('type_mismatch');
    expect([...kinds].filter((k) => errorRules.has(k)).length).toBeGreaterThanOrEqual(3);
  });

  it('applies every valid row and rejects exactly the invalid lines of a mixed stream, however it is chunked', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 4096 }), (seed, chunkBytes) => {
        const rng = seededRng(seed);
        const lines: string[] = [];
        const invalidLines: number[] = [];
        for (let i = 0; i < 200; i++) {
          const drawn = drawLines(gen, rng, T0 + i * 250, 0.2);
          if (drawn.invalid) invalidLines.push(lines.length + 1);
          lines.push(...drawn.lines);
        }
        const out = runLines(pipelineFor(config), lines, chunkBytes);
        expect(out.records).toBe(lines.length);
        expect(out.rejects.map((r) => r.line)).toEqual(invalidLines);
        expect(out.applied).toBe(lines.length - invalidLines.length);
      }),
      { numRuns: 15 },
    );
  });

  it('fills every view', () => {
    const pipeline = pipelineFor(config);
    const out = runLines(
      pipeline,
      validRows(gen, 2, 3_000, T0, 400).map((r) => JSON.stringify(r)),
    );
    expect(out.rejects).toEqual([]);
    for (const view of config.views) {
      const rows = rowsOf(pipeline.query(view.name, { from: T0 - 3_600_000, to: T0 + 3_600_000 }));
      expect(rows.length, view.name).toBeGreaterThan(0);
    }
  });

  it('draws invalid lines at the share asked for', () => {
    const rng = seededRng(7);
    let invalid = 0;
    const draws = 20_000;
    for (let i = 0; i < draws; i++) if (drawLines(gen, rng, T0, 0.1).invalid) invalid += 1;
    // Binomial(20000, 0.1): the standard deviation is about 42.
    expect(Math.abs(invalid - 2_000)).toBeLessThan(250);
  });
});

describe('payments audit sample', () => {
  /** What `pulse rules check` reports for examples/payments/sample.ndjson, line by line. */
  const expected = [
    { line: 4, kind: 'malformed_json', ruleIds: [] },
    { line: 5, kind: 'type_mismatch', field: 'amount', ruleIds: [] },
    { line: 7, kind: 'rule_failed', ruleIds: ['card_masked'] },
    { line: 8, kind: 'rule_failed', ruleIds: ['currency_known'] },
    { line: 9, kind: 'rule_failed', ruleIds: ['amount_range'] },
    { line: 10, kind: 'rule_failed', ruleIds: ['amount_required'] },
    { line: 11, kind: 'rule_failed', ruleIds: ['atm_cash_limit'] },
    { line: 13, kind: 'invalid_timestamp', field: 'ts', ruleIds: [] },
    { line: 14, kind: 'rule_failed', ruleIds: ['mcc_range'] },
    { line: 15, kind: 'rule_failed', ruleIds: ['country_code'] },
    { line: 16, kind: 'rule_failed', ruleIds: ['currency_known', 'card_masked'] },
    { line: 19, kind: 'rule_failed', ruleIds: ['merchant_name'] },
    { line: 21, kind: 'malformed_json', ruleIds: [] },
    { line: 24, kind: 'type_mismatch', field: 'mcc', ruleIds: [] },
  ];
  let pipeline: Pipeline;
  let out: Outcome;
  let lines: string[];
  beforeAll(async () => {
    pipeline = pipelineFor(await exampleConfig('payments'));
    const text = await readFile(join(repoRoot, 'examples', 'payments', 'sample.ndjson'), 'utf8');
    lines = text.trimEnd().split('\n');
    out = runLines(pipeline, lines);
  });

  it('rejects exactly the bad lines, each for its rules', () => {
    expect(lines).toHaveLength(24);
    expect(out.rejects.map((r) => ({ line: r.line, kind: r.kind, ...(r.field ? { field: r.field } : {}), ruleIds: r.ruleIds }))).toEqual(expected);
    const offsets = lines.map((_, i) => lines.slice(0, i).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0));
    for (const r of out.rejects) {
      expect(r.byteOffset).toBe(offsets[r.line - 1]);
      if (r.kind === 'rule_failed') for (const id of r.ruleIds) expect(r.reason).toContain(id);
      else expect(r.raw).toBe(lines[r.line - 1]);
    }
    expect(out.rejects.find((r) => r.line === 13)?.reason).toContain('with an offset');
  });

  it('keeps the rest, counting the two that trip warn rules', () => {
    expect(out.applied).toBe(24 - expected.length);
    expect(out.warned).toBe(2);
    const counters = Object.fromEntries(pipeline.ruleCounters().map((c) => [c.id, c]));
    expect(counters.large_amount).toMatchObject({ severity: 'warn', warned: 1 });
    expect(counters.gambling_high_stake).toMatchObject({ severity: 'warn', warned: 1 });
  });

  it('is the report of `pulse rules check`, which exits 1 because records were rejected', async () => {
    const out: string[] = [];
    const io: CliIO = { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), cwd: repoRoot, env: {} };
    const sample = join(repoRoot, 'examples', 'payments', 'sample.ndjson');
    const code = await runCli(['node', 'pulse', 'rules', 'check', sample, '--config', join(repoRoot, 'examples', 'payments', 'pulse.config.yaml'), '--json'], io);
    expect(code).toBe(1);
    const report = JSON.parse(out.join('')) as { records: number; passed: number; rejected: number; warned: number; firstRejects: PipelineReject[] };
    expect(report).toMatchObject({ records: 24, passed: 10, rejected: 14, warned: 2 });
    expect(report.firstRejects.map((r) => [r.line, r.ruleIds])).toEqual(expected.map((r) => [r.line, r.ruleIds]));
  });

  it('classifies by category code and by merchant name', () => {
    const hour = { from: Date.UTC(2026, 2, 2, 9), to: Date.UTC(2026, 2, 2, 10) };
    // Line 12 (LuckyBet, MCC 7995, ES) by its code, line 17 (Grand Casino Riviera, MCC 7999, FR) by its name.
    const gambling = rowsOf(pipeline.query('gambling_1h', hour)).map((r) => [r.country, r.transactions, r.total]);
    expect(gambling.sort()).toEqual([
      ['ES', 1, 1800],
      ['FR', 1, 240],
    ]);
    // Lines 3 (an airline) and 23 (a hotel), in two 15-minute windows rolled up to the hour.
    const travel = rowsOf(pipeline.query('spend_by_category_15m', { ...hour, groups: { category: 'travel', currency: 'EUR' }, granularityMs: 3_600_000 }));
    expect(travel).toHaveLength(1);
    expect(travel[0]).toMatchObject({ transactions: 2, total: 12_766.4, cards: 2 });
  });
});

describe('what the example views compute', () => {
  it('trading: VWAP from the two sums of vwap_1m equals sum(price × size) / sum(size), before and after a rollup', async () => {
    const config = await exampleConfig('trading');
    const pipeline = pipelineFor(config);
    const ticks = validRows(generatorOf('trading'), 4, 6_000, T0, 100) as { symbol: string; price: number; size: number; ts: number }[];
    runLines(
      pipeline,
      ticks.map((t) => JSON.stringify(t)),
    );
    const range = { from: T0, to: T0 + 600_000 };
    for (const symbol of ['AAPL', 'NVDA', 'BRK.B']) {
      const mine = ticks.filter((t) => t.symbol === symbol);
      const vwap = mine.reduce((s, t) => s + t.price * t.size, 0) / mine.reduce((s, t) => s + t.size, 0);
      const minutes = rowsOf(pipeline.query('vwap_1m', { ...range, groups: { symbol } }));
      expect(minutes).toHaveLength(10);
      const rolled = rowsOf(pipeline.query('vwap_1m', { ...range, groups: { symbol }, granularityMs: 600_000 }));
      expect(rolled).toHaveLength(1);
      const [whole] = rolled as { notional: number; volume: number; trades: number }[];
      expect(whole?.trades).toBe(mine.length);
      expect(whole?.volume).toBe(total(minutes, 'volume'));
      expect(Math.abs((whole?.notional ?? 0) / (whole?.volume ?? 1) - vwap) / vwap).toBeLessThan(1e-9);
      expect(Math.abs(total(minutes, 'notional') / total(minutes, 'volume') - vwap) / vwap).toBeLessThan(1e-9);
    }
  });

  it('social: posts are counted once, hashtags once per row', async () => {
    const pipeline = pipelineFor(await exampleConfig('social'));
    const gen = generatorOf('social');
    const rng = seededRng(9);
    const posts = Array.from({ length: 2_000 }, (_, i) => gen.event(rng, T0 + i * 150));
    const rows = posts.flatMap((p) => gen.rows?.(p) ?? []);
    expect(rows.length).toBeGreaterThan(posts.length);
    runLines(
      pipeline,
      rows.map((r) => JSON.stringify(r)),
    );
    const range = { from: T0, to: T0 + 3_600_000 };
    expect(total(rowsOf(pipeline.query('posts_by_lang_5m', range)), 'posts')).toBe(posts.length);
    expect(total(rowsOf(pipeline.query('hashtags_by_lang_5m', range)), 'hashtag_uses')).toBe(rows.filter((r) => r.hashtag !== null).length);
    expect(total(rowsOf(pipeline.query('user_sessions', range)), 'posts')).toBe(posts.length);
    const coffee = rows.filter((r) => r.hashtag === 'coffee').length;
    expect(total(rowsOf(pipeline.query('trending_hashtags_5m', { ...range, groups: { hashtag: 'coffee' } })), 'uses')).toBe(coffee);
  });

  it('iot: the faults view holds the fault and overheat readings, the first matching health case winning', async () => {
    const pipeline = pipelineFor(await exampleConfig('iot'));
    const readings = validRows(generatorOf('iot'), 6, 20_000, T0, 30) as { status: string; temperature: number | null; battery: number; site: string }[];
    runLines(
      pipeline,
      readings.map((r) => JSON.stringify(r)),
    );
    const range = { from: T0, to: T0 + 3_600_000 };
    const health = (r: (typeof readings)[number]) =>
      r.status === 'fault' ? 'fault' : r.status === 'offline' ? 'offline' : (r.temperature ?? -Infinity) > 80 ? 'overheat' : r.battery < 15 ? 'low_battery' : r.status === 'maintenance' ? 'maintenance' : 'ok';
    const faults = readings.filter((r) => ['fault', 'overheat'].includes(health(r)));
    expect(faults.some((r) => health(r) === 'overheat')).toBe(true);
    expect(total(rowsOf(pipeline.query('faults_5m', range)), 'count')).toBe(faults.length);
    for (const label of ['fault', 'offline', 'overheat', 'low_battery', 'maintenance', 'ok']) {
      const counted = rowsOf(pipeline.query('site_health_5m', range)).filter((r) => r.health === label);
      expect(total(counted, 'count'), label).toBe(readings.filter((r) => health(r) === label).length);
    }
  });
});

describe('history writer', () => {
  it('writes one object per six-hour block under date=…/, in event-time order, deterministically', async () => {
    const gen: ExampleGenerator = { ...generatorOf('iot'), history: { days: 1, eventsPerMinute: 4 } };
    const end = T0 + 17 * 60_000 + 31_000; // 09:17:31 → history ends at 09:17:00
    const write = async (dir: string) => writeHistory({ lakeDir: dir, gen, rng: seededRng(3), endMs: end, invalidShare: 0.05 });
    const lakeA = join(scratch, 'history-a');
    const lakeB = join(scratch, 'history-b');
    expect(await hasHistory(lakeA)).toBe(false);
    const report = await write(lakeA);
    await write(lakeB);
    expect(await hasHistory(lakeA)).toBe(true);

    expect(report.toMs).toBe(T0 + 17 * 60_000);
    expect(report.fromMs).toBe(report.toMs - 86_400_000);
    expect(report.lines).toBe(24 * 60 * 4);
    // 09:17 the day before to 09:17: blocks 06, 12, 18, 00, 06 (both partial at the ends).
    expect(report.files).toEqual(
      [T0 - 86_400_000 - 3 * 3_600_000, T0 - 86_400_000 + 3 * 3_600_000, T0 - 86_400_000 + 9 * 3_600_000, T0 - 9 * 3_600_000, T0 - 3 * 3_600_000].map(historyKey),
    );
    expect(report.files[0]).toBe('date=2026-03-01/history-0600.ndjson');
    expect(await readdir(lakeA)).toEqual(['date=2026-03-01', 'date=2026-03-02']);

    let lines = 0;
    let invalid = 0;
    let last = -Infinity;
    for (const key of report.files) {
      const text = await readFile(join(lakeA, key), 'utf8');
      expect(await readFile(join(lakeB, key), 'utf8')).toBe(text);
      expect(text.endsWith('\n')).toBe(true);
      for (const line of text.trimEnd().split('\n')) {
        lines += 1;
        let ts: number;
        try {
          ts = (JSON.parse(line) as { ts: number }).ts;
          if (typeof ts !== 'number') throw new Error('not a number');
        } catch {
          invalid += 1;
          continue;
        }
        expect(ts).toBeGreaterThanOrEqual(last);
        expect(historyKey(Math.floor(ts / HISTORY_BLOCK_MS) * HISTORY_BLOCK_MS)).toBe(key);
        expect(ts).toBeGreaterThanOrEqual(report.fromMs);
        expect(ts).toBeLessThan(report.toMs);
        last = ts;
      }
    }
    expect(lines).toBe(report.lines);
    expect(invalid).toBeLessThanOrEqual(report.invalid);
    expect(report.invalid).toBeGreaterThan(0);
  });
});

describe('live appender', () => {
  it('appends whole lines at the rate asked for, with event times inside each tick', async () => {
    const file = join(scratch, 'live', 'live.ndjson');
    let now = T0;
    const appender = await LiveAppender.open({ file, gen: generatorOf('trading'), rng: seededRng(5), ratePerSecond: 40, invalidShare: 0, now: () => now });
    appender.start();
    now += 1_000;
    await appender.tick();
    expect(appender.counts).toEqual({ draws: 40, lines: 40, invalid: 0 });
    now += 250;
    await appender.tick();
    expect(appender.counts.draws).toBe(50);
    await appender.stop();

    const text = await readFile(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const ticks = text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { ts: number }).ts);
    expect(ticks).toHaveLength(50);
    expect(ticks.slice(0, 40).every((ts) => ts > T0 && ts <= T0 + 1_000)).toBe(true);
    expect(ticks.slice(40).every((ts) => ts > T0 + 1_000 && ts <= T0 + 1_250)).toBe(true);
    expect([...ticks].sort((a, b) => a - b)).toEqual(ticks);
  });

  it('appends to an existing file rather than truncating it (the speed layer checkpoints byte offsets)', async () => {
    const file = join(scratch, 'live-append', 'live.ndjson');
    for (let run = 0; run < 2; run++) {
      let now = T0 + run * 10_000;
      const appender = await LiveAppender.open({ file, gen: generatorOf('iot'), rng: seededRng(run), ratePerSecond: 10, invalidShare: 0.5, now: () => now });
      appender.start();
      now += 1_000;
      await appender.tick();
      await appender.stop();
    }
    expect((await readFile(file, 'utf8')).trimEnd().split('\n')).toHaveLength(20);
  });

  it('refuses a rate that is not positive', async () => {
    await expect(LiveAppender.open({ file: join(scratch, 'x.ndjson'), gen: generatorOf('iot'), rng: seededRng(1), ratePerSecond: 0, invalidShare: 0 })).rejects.toThrow(/rate must be positive/);
  });
});

describe('example runner', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'example.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });

  it('names the examples when given an unknown one', () => {
    const r = run('weather');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown example 'weather': use one of iot, trading, payments, social");
  });

  it('rejects an invalid share outside 0..1', () => {
    const r = run('iot', '--invalid', '1.5');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--invalid must be a share between 0 and 1, got '1.5'");
  });

  it('prints its usage with --help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: npm run example -- <iot|trading|payments|social>');
  });
});

describe('example runner, end to end', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGTERM');
  });

  /** Runs the runner until `whileUp` is done, then SIGTERM; returns its output and exit code. */
  async function runExample(args: string[], port: number, whileUp: (base: string) => Promise<void>): Promise<{ output: string; code: number | null }> {
    const base = `http://127.0.0.1:${port}`;
    let output = '';
    const runner = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'example.ts'), ...args, '--port', String(port)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = runner;
    runner.stdout.on('data', (d: Buffer) => (output += d.toString()));
    runner.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));
    const until = Date.now() + 120_000;
    for (;;) {
      if (runner.exitCode !== null) throw new Error(`the runner exited early (${runner.exitCode}):\n${output}`);
      if (Date.now() > until) throw new Error(`pulse up was not ready within 120 s:\n${output}`);
      if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await whileUp(base);
    runner.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 60_000))]);
    return { output, code };
  }

  /** Waits until the speed layer has published a realtime watermark for `view`. */
  async function realtimeWatermark(base: string, view: string): Promise<string | null> {
    for (const stop = Date.now() + 30_000; Date.now() < stop; await new Promise((r) => setTimeout(r, 500))) {
      const watermark = ((await (await fetch(`${base}/v1/views/${view}/freshness`)).json()) as { realtimeWatermark: string | null }).realtimeWatermark;
      if (watermark) return watermark;
    }
    return null;
  }

  const count = (pattern: RegExp, output: string) => Number(pattern.exec(output)?.[1] ?? NaN);
  const appendedLines = (output: string) => count(/appended \d+ draws as (\d+) lines/, output);
  const consumedMessages = (output: string) => count(/"messages":(\d+)[^\n]*speed worker stopped/, output);

  it('writes the history, runs pulse up while appending live ticks, stops on SIGTERM, and resumes where it stopped', async () => {
    // A copy of the trading config, so the run's .data/ lives in a scratch folder.
    const dir = join(scratch, 'runner-e2e');
    await mkdir(dir, { recursive: true });
    const configFile = join(dir, 'pulse.config.yaml');
    await copyFile(join(repoRoot, 'examples', 'trading', 'pulse.config.yaml'), configFile);
    const args = ['trading', '--config', configFile, '--rate', '50', '--invalid', '0.1'];
    const port = 20_000 + Math.floor(Math.random() * 10_000);

    const first = await runExample(args, port, async (base) => {
      expect(await hasHistory(join(dir, '.data', 'lake', 'raw'))).toBe(true);
      // The day of history is served from the batch view: complete hourly rows.
      const hourly = (await (await fetch(`${base}/v1/views/vwap_1m?symbol=NVDA&granularity=1h`)).json()) as { rows: { complete: boolean; trades: number }[] };
      expect(hourly.rows.length).toBeGreaterThanOrEqual(24);
      expect(hourly.rows.slice(0, 20).every((r) => r.complete && r.trades > 0)).toBe(true);
      // The live ticks reach the realtime side.
      expect(await realtimeWatermark(base, 'vwap_1m')).not.toBeNull();
    });
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('[example] history: ');
    expect(first.output).toContain('partition has no checkpoint yet');
    expect(first.output).toContain('[example] pulse up exited (0)');
    const appended = appendedLines(first.output);
    expect(appended).toBeGreaterThan(0);
    expect(consumedMessages(first.output)).toBeLessThanOrEqual(appended);

    // A second run keeps the history and the live file, and the speed layer resumes from its checkpoint.
    const second = await runExample(args, port, async (base) => {
      expect(await realtimeWatermark(base, 'vwap_1m')).not.toBeNull();
    });
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('[example] history already in');
    expect(second.output).toContain('partition restored from its checkpoint');
    const live = await readFile(join(dir, '.data', 'live.ndjson'), 'utf8');
    expect(live.trimEnd().split('\n')).toHaveLength(appended + appendedLines(second.output));
    expect(consumedMessages(first.output) + consumedMessages(second.output)).toBeLessThanOrEqual(appended + appendedLines(second.output));
  }, 300_000);
});
