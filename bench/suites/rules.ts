/**
 * Rule evaluation on the sensor dataset: a 10-check rule set (null, range,
 * enum, regex and expression checks) plus a derivation, native core vs the
 * TypeScript reference engine on the same rows. Also the cost of each regex
 * check alone and of the null/range/enum checks alone.
 *
 * Throughput is rows/s; rule evaluations/s = rows/s × checks in the set.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Table } from 'apache-arrow';
import { tableToBuffer } from '../../src/core/arrow.js';
import { native } from '../../src/core/native.js';
import { RuleSet, type RuleCheck, type RuleSchema, type RulesSpec } from '../../src/core/rules.js';
import { ReferenceRuleSet, tableFromRows, type Row } from '../../test/reference/rules.js';
import { benchSchema, dataset, STATUSES } from '../lib/data.js';
import { measure, type BenchContext, type Measurement, type Suite } from '../lib/harness.js';

const schema: RuleSchema = benchSchema as unknown as RuleSchema;

/** Null, range and enum checks: the fast-path kernels over raw slices. */
const basicChecks: RuleCheck[] = [
  { id: 'temperature_present', field: 'temperature', required: true, severity: 'warn' },
  { id: 'temperature_range', field: 'temperature', range: { min: -40, max: 85 } },
  { id: 'humidity_range', field: 'humidity', range: { min: 0, max: 100 } },
  { id: 'battery_range', field: 'battery', range: { min: 0, max: 100 } },
  { id: 'status_known', field: 'status', in: [...STATUSES] },
  { id: 'site_known', field: 'site', in: Array.from({ length: 20 }, (_, k) => `site-${k}`) },
  { id: 'recent', field: 'ts', range: { min: '2025-12-31T00:00:00Z' } },
];

const regexChecks: RuleCheck[] = [
  { id: 'device_shape', field: 'device', regex: '^dev-[0-9]+$' },
  { id: 'user_shape', field: 'user', regex: '^u[0-9]{1,5}$', severity: 'warn' },
];

const exprCheck: RuleCheck = {
  id: 'battery_sane',
  expr: "not (status = 'ok' and battery < 3) or temperature is null",
  severity: 'warn',
};

const fullSpec: RulesSpec = {
  checks: [...basicChecks, ...regexChecks, exprCheck],
  derive: [
    {
      column: 'health',
      default: 'check',
      cases: [
        { when: 'battery < 10', set: 'battery_low' },
        { when: 'temperature > 40 or humidity > 90', set: 'hot' },
        { when: "status = 'ok'", set: 'healthy' },
      ],
    },
  ],
};

/** Reads the NDJSON dataset into plain rows (int64 as bigint, timestamps as ms). */
function loadRows(rows: number): Row[] {
  const text = dataset('ndjson', rows).toString('utf8');
  const out: Row[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as Record<string, unknown>;
    out.push({ ...r, battery: r.battery === null ? null : BigInt(r.battery as number) });
  }
  return out;
}

/** The dataset as an Arrow Table and its IPC bytes; the plain rows are dropped afterwards. */
function loadTable(rows: number): { table: Table; ipc: Buffer } {
  const table = tableFromRows(schema, loadRows(rows));
  return { table, ipc: tableToBuffer(table) };
}

const NATIVE = 'native (IPC in/out)';

/** A full garbage collection, via V8's `gc` exposed at run time. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

const suite: Suite = {
  name: 'rules',
  async run(ctx: BenchContext): Promise<Measurement[]> {
    // The native subjects run first, without a million JS row objects on the
    // heap; the reference loads its rows afterwards (V8's collector would
    // otherwise keep tracing them during the native runs).
    const { table, ipc } = loadTable(ctx.rows);
    const compile = (spec: RulesSpec) => native.NativeRuleSet.compile(JSON.stringify(schema), JSON.stringify(spec));
    const perSec = (checks: number) => `rule evaluations/s = rows/s × ${checks}`;
    const input = { rows: table.numRows };
    const checks = fullSpec.checks!.length;
    const fullCase = `${checks} checks + derivation`;

    const full = compile(fullSpec);
    const api = RuleSet.compile(schema, fullSpec);
    // Warm up (the first calls grow the process's heaps to their working
    // size), then collect the loader's garbage so no collection of it runs
    // during the native measurements.
    for (let k = 0; k < 3; k++) {
      full.evaluate(ipc);
      api.evaluate(table);
    }
    collectGarbage();
    const fullRuns = await measure(ctx, 'rules', fullCase, input, [
      { name: NATIVE, fn: () => full.evaluate(ipc), note: perSec(checks) },
      { name: 'native RuleSet.evaluate(Table)', fn: () => api.evaluate(table), note: 'includes JS IPC encode/decode' },
    ]);

    const others: Measurement[] = [];
    const basic = compile({ checks: basicChecks });
    others.push(...(await measure(ctx, 'rules', 'null/range/enum checks only', input, [{ name: NATIVE, fn: () => basic.evaluate(ipc), note: perSec(basicChecks.length) }])));
    for (const check of [...regexChecks, exprCheck]) {
      const one = compile({ checks: [check] });
      others.push(...(await measure(ctx, 'rules', `${check.id} alone`, input, [{ name: NATIVE, fn: () => one.evaluate(ipc), note: perSec(1) }])));
    }
    const none = compile({});
    others.push(...(await measure(ctx, 'rules', 'no checks (IPC round trip)', input, [{ name: NATIVE, fn: () => none.evaluate(ipc), note: 'decode + encode only' }])));

    const rows = loadRows(ctx.rows);
    collectGarbage();
    const reference = ReferenceRuleSet.compile(schema, fullSpec);
    const referenceRuns = (await measure(ctx, 'rules', fullCase, input, [{ name: 'TypeScript reference', fn: () => reference.evaluate(rows), note: perSec(checks) }])).map(
      (m) => ({ ...m, baseline: NATIVE }),
    );

    const out = [...fullRuns, ...referenceRuns, ...others];
    for (const m of out) {
      const n = /× (\d+)/.exec(m.note ?? '')?.[1];
      if (n && m.rowsPerSec) m.note = `${((m.rowsPerSec * Number(n)) / 1e6).toFixed(1)} M rule evaluations/s (${n} checks)`;
    }
    return out;
  },
};

export default suite;
