/**
 * The rule engine through its TypeScript API: bad specs refused at compile
 * time (native and reference alike), the contract's example end to end,
 * async evaluation, halting, multi-batch streams and mismatched tables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Float64, Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { tableToBuffer } from '../src/core/arrow.js';
import { RuleSet, type RuleSchema, type RulesSpec } from '../src/core/rules.js';
import { ReferenceCompileError, ReferenceRuleSet, tableFromRows, type Row } from './reference/rules.js';

const payments: RuleSchema = {
  fields: [
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'amount', type: 'float64' },
    { name: 'currency', type: 'string' },
    { name: 'email', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'code', type: 'string' },
    { name: 'debit', type: 'int64' },
    { name: 'credit', type: 'int64' },
    { name: 'merchant', type: 'string' },
  ],
  eventTime: 'ts',
};

const contractExample: RulesSpec = {
  onError: 'skip',
  checks: [
    { id: 'amount_required', field: 'amount', required: true },
    { id: 'amount_range', field: 'amount', range: { min: 0, max: 10000, minExclusive: true }, severity: 'error', message: 'amount out of range' },
    { id: 'currency_known', field: 'currency', in: ['USD', 'EUR'], severity: 'warn' },
    { id: 'email_shape', field: 'email', regex: '^[^@]+@[^@]+$' },
    { id: 'name_length', field: 'name', length: { min: 1, max: 64 } },
    { id: 'code_is_int', field: 'code', type: 'int64' },
    { id: 'debit_le_credit', expr: 'debit <= credit or credit is null' },
  ],
  derive: [{ column: 'category', default: 'other', cases: [{ when: "contains(lower(merchant), 'market')", set: 'groceries' }] }],
};

const T0 = Date.UTC(2026, 0, 1);
const payment = (p: Partial<Row>): Row => ({
  ts: T0,
  amount: 10,
  currency: 'USD',
  email: 'a@b.c',
  name: 'Ann',
  code: '1',
  debit: 1n,
  credit: 2n,
  merchant: 'shop',
  ...p,
});

const rows: Row[] = [
  payment({ merchant: 'SuperMarket 9' }),
  payment({ amount: 0 }),
  payment({ currency: 'GBP', email: null, code: null, credit: null, merchant: null }),
  payment({ amount: null, email: 'nope', code: 'x1', debit: 9n, credit: 3n }),
  payment({ name: '', currency: 'JPY', merchant: 'Flea MARKET' }),
];

describe('compiling rule sets', () => {
  const bad: [string, RulesSpec, string][] = [
    ['unknown field', { checks: [{ id: 'r1', field: 'nope', required: true }] }, "rule 'r1': unknown field 'nope'"],
    ['regex on int64', { checks: [{ id: 'r2', field: 'debit', regex: '^1' }] }, "rule 'r2': regex needs a string field, but field 'debit' is int64"],
    ['range on string', { checks: [{ id: 'r3', field: 'name', range: { min: 1 } }] }, "rule 'r3': range needs a numeric or timestamp field, but field 'name' is string"],
    ['invalid regex', { checks: [{ id: 'r4', field: 'email', regex: '(unclosed' }] }, "rule 'r4': invalid regex"],
    ['unparsable expression', { checks: [{ id: 'r5', expr: 'debit <= (credit' }] }, "rule 'r5': column 17: expected ')', found end of expression"],
    ['unknown function', { checks: [{ id: 'r6', expr: "soundex(name) = 'A'" }] }, "rule 'r6': column 1: unknown function 'soundex'"],
    ['wrong arity', { checks: [{ id: 'r7', expr: "contains(name, 'a', 'b')" }] }, "rule 'r7': column 1: contains() takes 2 arguments, found 3"],
    [
      'duplicate rule ids',
      { checks: [{ id: 'r8', field: 'amount', required: true }, { id: 'r8', field: 'name', required: true }] },
      "rule 'r8': duplicate rule id",
    ],
    ['empty in list', { checks: [{ id: 'r9', field: 'currency', in: [] }] }, "rule 'r9': in needs at least one value"],
    ['type mismatch in an expression', { checks: [{ id: 'r10', expr: 'name > 3' }] }, "rule 'r10': column 6: '>' cannot compare string with int64"],
    ['string function on a number', { checks: [{ id: 'r11', expr: "lower(amount) = 'x'" }] }, "rule 'r11': column 1: lower() needs a string, found float64"],
    ['non-boolean expression', { checks: [{ id: 'r12', expr: 'debit + credit' }] }, "rule 'r12': column 1: the expression must be boolean, found int64"],
    ['in values of the wrong type', { checks: [{ id: 'r13', field: 'debit', in: [1, 'two'] }] }, "rule 'r13': in values for int64 field 'debit' must be integers"],
    ['bad timestamp bound', { checks: [{ id: 'r14', field: 'ts', range: { min: '2026-01-01' } }] }, "rule 'r14': range bound '2026-01-01' is not an ISO-8601"],
    ['type check on a number field', { checks: [{ id: 'r15', field: 'debit', type: 'bool' }] }, "rule 'r15': type bool applies to string fields"],
    ['derived column clash', { derive: [{ column: 'name', cases: [] }] }, "derivation 'name': column already exists"],
    ['bad derivation case', { derive: [{ column: 'tag', cases: [{ when: 'amount >', set: 'x' }] }] }, "derivation 'tag' case 1: column 9: expected an expression"],
  ];

  for (const [what, spec, message] of bad) {
    it(`refuses ${what}, naming the rule`, () => {
      expect(() => RuleSet.compile(payments, spec)).toThrow(message);
      expect(() => ReferenceRuleSet.compile(payments, spec)).toThrow(ReferenceCompileError);
      expect(() => ReferenceRuleSet.compile(payments, spec)).toThrow(message);
    });
  }

  it('refuses specs of the wrong shape with the rule id', () => {
    const twoKinds = { checks: [{ id: 'both', field: 'name', required: true, regex: 'x' }] } as unknown as RulesSpec;
    expect(() => RuleSet.compile(payments, twoKinds)).toThrow(/rule 'both'.*exactly one of .* \(found required, regex\)/);
    const typo = { checks: [{ id: 'typo', field: 'name', requird: true }] } as unknown as RulesSpec;
    expect(() => RuleSet.compile(payments, typo)).toThrow(/rule 'typo'.*requird/);
    const onError = { onError: 'explode' } as unknown as RulesSpec;
    expect(() => RuleSet.compile(payments, onError)).toThrow(/rules JSON is invalid/);
  });

  it('compiles nesting up to the depth limit and refuses deeper nesting without crashing', () => {
    const nested = (depth: number) => ({ checks: [{ id: 'deep', expr: `${'('.repeat(depth)}debit${')'.repeat(depth)} > 0` }] });
    expect(RuleSet.compile(payments, nested(190)).ruleIds).toEqual(['deep']);
    expect(() => RuleSet.compile(payments, nested(100_000))).toThrow(/rule 'deep': column 201: expression is nested more than 200 levels deep/);
    expect(() => ReferenceRuleSet.compile(payments, nested(100_000))).toThrow(/rule 'deep': column 201: expression is nested more than 200 levels deep/);
  });

  it('refuses an invalid schema', () => {
    const dup = { fields: [{ name: 'a', type: 'int64' as const }, { name: 'a', type: 'bool' as const }] };
    expect(() => RuleSet.compile(dup, {})).toThrow(/duplicate field name 'a'/);
  });
});

describe('evaluating tables', () => {
  const rules = RuleSet.compile(payments, contractExample);

  it('runs the contract example: rejects with reasons, warnings, derived labels', () => {
    const r = RuleSet.compile(payments, contractExample).evaluate(tableFromRows(payments, rows));
    expect(r.rejects).toEqual([
      { row: 1, ruleIds: ['amount_range'], messages: ['amount out of range'] },
      {
        row: 3,
        ruleIds: ['amount_required', 'email_shape', 'code_is_int', 'debit_le_credit'],
        messages: [
          'amount is required',
          'email must match /^[^@]+@[^@]+$/',
          'code must be a valid int64',
          'expression is false: debit <= credit or credit is null',
        ],
      },
      { row: 4, ruleIds: ['name_length'], messages: ['name must have 1 to 64 characters'] },
    ]);
    expect(r.warnedRows).toBe(1);
    expect(r.valid.numRows).toBe(2);
    expect(r.valid.schema.fields.map((f) => f.name)).toEqual([...payments.fields.map((f) => f.name), 'category']);
    expect(r.valid.getChild('category')!.toArray()).toEqual(['groceries', 'other']);
    expect(r.valid.getChild('currency')!.toArray()).toEqual(['USD', 'GBP']);
    const warn = r.counters.find((c) => c.id === 'currency_known')!;
    expect(warn).toEqual({ id: 'currency_known', severity: 'warn', evaluated: 5, failed: 2, warned: 1 });
  });

  it('evaluates off the event loop with the same answers', async () => {
    const table = tableFromRows(payments, rows);
    const sync = rules.evaluate(table);
    const results = await Promise.all(Array.from({ length: 8 }, () => rules.evaluateAsync(table)));
    for (const r of results) {
      expect(r.rejects).toEqual(sync.rejects);
      expect(r.valid.toArray().map((x) => x.toJSON())).toEqual(sync.valid.toArray().map((x) => x.toJSON()));
    }
    expect(rules.counters()[0]!.evaluated).toBe(9 * rows.length);
  });

  it('numbers rejected rows across the batches of a stream', () => {
    const one = tableFromRows(payments, rows);
    const two = one.concat(tableFromRows(payments, rows));
    expect(two.batches.length).toBe(2);
    const r = RuleSet.compile(payments, contractExample).evaluateIpc(tableToBuffer(two));
    expect(r.rejects.map((x) => x.row)).toEqual([1, 3, 4, 6, 8, 9]);
    expect(r.valid.numRows).toBe(4);
  });

  it('halts at the first rejected row when onError is halt', () => {
    const halting = RuleSet.compile(payments, { ...contractExample, onError: 'halt' });
    expect(() => halting.evaluate(tableFromRows(payments, rows))).toThrow("rule 'amount_range' failed on row 1: amount out of range");
    expect(halting.evaluate(tableFromRows(payments, [rows[0]!, rows[2]!])).valid.numRows).toBe(2);
    expect(() => ReferenceRuleSet.compile(payments, { ...contractExample, onError: 'halt' }).evaluate(rows)).toThrow("rule 'amount_range' failed on row 1");
  });

  it('keeps an empty table empty, with the derived columns', () => {
    const r = rules.evaluate(tableFromRows(payments, []));
    expect(r.valid.numRows).toBe(0);
    expect(r.valid.schema.fields.at(-1)!.name).toBe('category');
    expect(r.rejects).toEqual([]);
  });

  it('refuses a table that does not match the schema, without crashing', () => {
    const wrong = new Table({
      ts: vectorFromArray([1n], new Int64()),
      amount: vectorFromArray([1], new Float64()),
    });
    expect(() => rules.evaluate(wrong)).toThrow(/does not match the rule set's schema/);
    const renamed = new Table({ x: vectorFromArray(['a'], new Utf8()) });
    expect(() => rules.evaluate(renamed)).toThrow(/does not match/);
    expect(() => rules.evaluateIpc(Buffer.from('not arrow at all'))).toThrow();
    // The rule set still works afterwards.
    expect(rules.evaluate(tableFromRows(payments, rows)).valid.numRows).toBe(2);
  });

  it('exposes rule ids in spec order', () => {
    expect(rules.ruleIds).toEqual(contractExample.checks!.map((c) => c.id));
  });
});

describe('the examples in docs/rules.md', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'rules.md'), 'utf8');
  const example = (heading: string): RulesSpec => {
    const section = doc.slice(doc.indexOf(heading));
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    if (!json) throw new Error(`no JSON example under ${heading}`);
    return JSON.parse(json) as RulesSpec;
  };

  it('payments compliance compiles and tags risk', () => {
    const schema: RuleSchema = {
      fields: [
        { name: 'amount', type: 'float64' },
        { name: 'currency', type: 'string' },
        { name: 'iban', type: 'string' },
        { name: 'booked_at', type: 'timestamp' },
        { name: 'settled_at', type: 'timestamp' },
        { name: 'kind', type: 'string' },
        { name: 'parent_id', type: 'string' },
        { name: 'country', type: 'string' },
      ],
    };
    const spec = example('### Payments compliance');
    const base = { amount: 20, currency: 'EUR', iban: 'DE89370400440532013000', booked_at: T0, settled_at: T0 + 1000, kind: 'sale', parent_id: null, country: 'DE' };
    const data: Row[] = [
      base,
      { ...base, amount: 6000, country: 'US' },
      { ...base, settled_at: T0 - 1 },
      { ...base, kind: 'refund' },
      { ...base, country: 'KP', settled_at: T0 + 2 * 86_400_000 },
    ];
    const r = RuleSet.compile(schema, spec).evaluate(tableFromRows(schema, data));
    expect(r.rejects.map((x) => [x.row, x.ruleIds])).toEqual([
      [2, ['settled_after_booked']],
      [3, ['refund_has_parent']],
    ]);
    expect(r.valid.getChild('risk')!.toArray()).toEqual(['low', 'high', 'medium']);
    expect(r.warnedRows).toBe(1);
    expect(ReferenceRuleSet.compile(schema, spec).evaluate(data).derived.risk).toEqual(['low', 'high', 'medium']);
  });

  it('sensor sanity compiles against the sensor schema', () => {
    const schema: RuleSchema = {
      fields: [
        { name: 'ts', type: 'timestamp', nullable: false },
        { name: 'device', type: 'string' },
        { name: 'temperature', type: 'float64' },
        { name: 'humidity', type: 'float64' },
        { name: 'battery', type: 'int64' },
        { name: 'status', type: 'string' },
      ],
    };
    const spec = example('### Sensor sanity');
    const data: Row[] = [
      { ts: T0, device: 'dev-1', temperature: 21.5, humidity: 40, battery: 80n, status: 'ok' },
      { ts: T0, device: 'dev-2', temperature: 45, humidity: 40, battery: 80n, status: 'degraded' },
      { ts: T0, device: 'sensor', temperature: 21, humidity: 40, battery: 5n, status: 'ok' },
      { ts: T0, device: 'dev-3', temperature: 20, humidity: 40, battery: 50n, status: 'offline' },
    ];
    const r = RuleSet.compile(schema, spec).evaluate(tableFromRows(schema, data));
    expect(r.rejects.map((x) => [x.row, x.ruleIds])).toEqual([[2, ['device_shape']]]);
    expect(r.valid.getChild('health')!.toArray()).toEqual(['healthy', 'hot', 'check']);
    expect(r.warnedRows).toBe(1);
  });
});
