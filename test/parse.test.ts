import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Table, Utf8, Vector } from 'apache-arrow';
import { utf8Values } from '../src/core/arrow.js';
import { ChunkedParser, parseBytes, REJECT_CODES, type ParseOptions, type Reject, type SchemaSpec } from '../src/core/parser.js';
import { referenceParse, type Row } from './reference/parse.js';
import { badInputs, corpusSchema } from './corpus/bad-inputs.js';

const schema: SchemaSpec = {
  fields: [
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'name', type: 'string' },
    { name: 'n', type: 'int64' },
    { name: 'x', type: 'float64' },
    { name: 'ok', type: 'bool' },
    { name: 'at', type: 'timestamp', unit: 's' },
  ],
  eventTime: 'ts',
};

/** A table's rows as plain objects, in the reference's value types. */
function tableRows(table: Table, spec: SchemaSpec): Row[] {
  const rows: Row[] = [];
  // Text read exactly (utf8Values): apache-arrow's `get` drops a leading U+FEFF.
  const text = new Map(spec.fields.filter((f) => f.type === 'string').map((f) => [f.name, utf8Values(table.getChild(f.name)! as Vector<Utf8>)]));
  for (let i = 0; i < table.numRows; i++) {
    const row: Row = {};
    for (const f of spec.fields) row[f.name] = ((text.get(f.name)?.[i] ?? table.getChild(f.name)!.get(i)) as Row[string]) ?? null;
    rows.push(row);
  }
  return rows;
}

interface Collected {
  rows: Row[];
  rejects: Reject[];
}

/** Pushes `bytes` cut at `cuts` through one parser and collects everything. */
async function runChunked(spec: SchemaSpec, options: ParseOptions, bytes: Buffer, cuts: number[], async = false): Promise<Collected> {
  const parser = ChunkedParser.create(spec, options);
  const out: Collected = { rows: [], rejects: [] };
  let start = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    const chunk = bytes.subarray(start, cut);
    start = cut;
    const r = async ? await parser.pushAsync(chunk) : parser.push(chunk);
    expect(r.table.numRows).toBe(r.rows);
    out.rows.push(...tableRows(r.table, spec));
    out.rejects.push(...r.rejects);
  }
  const tail = async ? await parser.finishAsync() : parser.finish();
  out.rows.push(...tableRows(tail.table, spec));
  out.rejects.push(...tail.rejects);
  const stats = parser.stats();
  expect(stats.records).toBe(stats.rows + stats.rejects);
  expect(stats.rows).toBe(out.rows.length);
  return out;
}

const brief = (rs: Reject[]) => rs.map((r) => ({ line: r.line, code: r.code, field: r.field }));

// ------------------------------------------------------------ generators

const CHARS = ['a', 'Z', ' ', ',', ';', '"', '\\', '\n', '\r', '\t', '\u0000', 'é', '😀', '\uFEFF', '\ud800', '{', '}', '[', ']', ':', '0', '1', '-', '.', 'e'];
const text = fc.array(fc.constantFrom(...CHARS), { maxLength: 8 }).map((cs) => cs.join(''));
const isoTime = fc.integer({ min: -2e12, max: 5e12 }).map((ms) => new Date(ms).toISOString());

/** Number text, valid JSON grammar, some exact, some not integral, some huge. */
const numberText = fc.oneof(
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.constantFrom('3.0', '3e2', '1.5', '-0', '0.0001e4', '1e400', '1e-400', '100e-2', '9223372036854775807', '1e19', '2.5e-1'),
);

/** A JSON value of any kind, as text. */
const jsonValue = fc.oneof(
  numberText,
  text.map((s) => JSON.stringify(s)),
  isoTime.map((s) => JSON.stringify(s)),
  fc.constantFrom('true', 'false', 'null', '{}', '[1,{"a":[]}]', '"2026-01-31T12:00:00"', '{"n":"\\ud83d\\ude00"}'),
);

const KEYS = ['ts', 'name', 'n', 'x', 'ok', 'at', 'other'];

/** NDJSON lines: mostly objects of schema keys with random values, some junk. */
const ndjsonLine = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(fc.constantFrom(...KEYS), jsonValue), { maxLength: 7 }).map((ms) => `{${ms.map(([k, v]) => `"${k}":${v}`).join(',')}}`) },
  { weight: 2, arbitrary: fc.tuple(numberText, fc.integer({ min: -5e12, max: 5e12 })).map(([n, ts]) => `{"ts":${ts},"n":${n},"x":${n}}`) },
  { weight: 1, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '[1]', '{"ts":1,"ts":2}', '{"ts":1', '\uFEFF{"ts":1}') },
);

/** CSV cells: valid values, quoted text, junk. */
const csvCell = fc.oneof(
  numberText,
  isoTime,
  text,
  text.map((s) => `"${s.replace(/"/g, '""')}"`),
  fc.constantFrom('', '""', 'true', 'FALSE', 'yes', '1,2', '"a"b'),
);
const csvLine = fc.array(csvCell, { minLength: 1, maxLength: 8 }).map((cells) => cells.join(','));

/** Input bytes from lines with LF or CRLF terminators, maybe a BOM, maybe no final newline. */
function input(line: fc.Arbitrary<string>, header?: fc.Arbitrary<string>) {
  return fc
    .record({
      header: header ?? fc.constant(undefined),
      lines: fc.array(line, { maxLength: 20 }),
      crlf: fc.boolean(),
      bom: fc.boolean(),
      finalNewline: fc.boolean(),
      garbage: fc.option(fc.uint8Array({ maxLength: 6 }), { nil: undefined }),
    })
    .map(({ header: h, lines, crlf, bom, finalNewline, garbage }) => {
      const all = h === undefined ? lines : [h, ...lines];
      const body = all.join(crlf ? '\r\n' : '\n') + (finalNewline && all.length ? '\n' : '');
      const parts = [Buffer.from(bom ? '\uFEFF' : ''), Buffer.from(body)];
      if (garbage) parts.splice(1, 0, Buffer.from(garbage));
      return Buffer.concat(parts);
    });
}

const csvHeader = fc.shuffledSubarray(KEYS, { minLength: 1 }).map((ks) => ks.join(','));
const soup = fc
  .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...Buffer.from('{}[]":,\\\n\r tfnul0123456789.-eE"')) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }), { maxLength: 300 })
  .map((a) => Buffer.from(a));
const cuts = fc.array(fc.nat(400), { maxLength: 8 });

const formats: { name: string; options: ParseOptions; data: fc.Arbitrary<Buffer> }[] = [
  { name: 'ndjson', options: { format: 'ndjson', maxRecordBytes: 120, batchSize: 3 }, data: input(ndjsonLine) },
  { name: 'csv with header', options: { format: 'csv', maxRecordBytes: 120, batchSize: 3 }, data: input(csvLine, csvHeader) },
  { name: 'csv positional', options: { format: 'csv', header: false, batchSize: 2 }, data: input(csvLine) },
  { name: 'ndjson byte soup', options: { format: 'ndjson', maxRecordBytes: 40 }, data: soup },
  { name: 'csv byte soup', options: { format: 'csv', header: false, maxRecordBytes: 40 }, data: soup },
];

// ------------------------------------------------------------ tests

describe('ChunkedParser', () => {
  for (const { name, options, data } of formats) {
    it(`gives the same rows and rejects for every chunking (${name})`, async () => {
      await fc.assert(
        fc.asyncProperty(data, cuts, fc.boolean(), async (bytes, cs, useAsync) => {
          const whole = await runChunked(schema, options, bytes, []);
          const chunked = await runChunked(schema, options, bytes, cs, useAsync);
          expect(chunked).toEqual(whole);
          const ones = await runChunked(schema, options, bytes, [...bytes.keys()]);
          expect(ones).toEqual(whole);
        }),
        { numRuns: 60 },
      );
    });

    it(`agrees with the TypeScript reference (${name})`, () => {
      fc.assert(
        fc.property(data, (bytes) => {
          const native = parseBytes(schema, options, bytes);
          const ref = referenceParse(schema, options, bytes);
          expect(tableRows(native.table, schema)).toEqual(ref.rows);
          expect(native.rows).toBe(ref.rows.length);
          expect(brief(native.rejects)).toEqual(brief(ref.rejects));
          expect(native.rejects.map((r) => r.byteOffset)).toEqual(ref.rejects.map((r) => r.byteOffset));
          expect(native.rejects.map((r) => r.raw)).toEqual(ref.rejects.map((r) => r.raw));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('keeps a value that starts with U+FEFF, byte for byte', () => {
    const r = parseBytes(schema, { format: 'ndjson' }, Buffer.from('{"ts":3,"name":"\uFEFF"}\n{"ts":4,"name":"\uFEFFx"}\n'));
    expect(utf8Values(r.table.getChild('name')! as Vector<Utf8>)).toEqual(['\uFEFF', '\uFEFFx']);
  });

  it('returns Arrow tables typed by the schema, even with no rows', () => {
    const r = parseBytes(schema, { format: 'ndjson' }, Buffer.from('{"ts":"2026-01-31T12:00:00.250+01:00","name":"é","n":9007199254740993,"x":0.1,"ok":false,"at":1.5}\n'));
    expect(r.table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'ts:Timestamp<MILLISECOND, UTC>',
      'name:Utf8',
      'n:Int64',
      'x:Float64',
      'ok:Bool',
      'at:Timestamp<MILLISECOND, UTC>',
    ]);
    expect(tableRows(r.table, schema)).toEqual([{ ts: Date.UTC(2026, 0, 31, 11, 0, 0, 250), name: 'é', n: 9007199254740993n, x: 0.1, ok: false, at: 1500 }]);
    const empty = ChunkedParser.create(schema, { format: 'csv' }).push(Buffer.from('ts,name\n1,a'));
    expect(empty.rows).toBe(0);
    expect(empty.table.numRows).toBe(0);
    expect(empty.table.schema.fields).toHaveLength(6);
  });

  it('keeps a record that spans pushes and reports its stream position', () => {
    const p = ChunkedParser.create(schema, { format: 'csv' });
    expect(p.push(Buffer.from('\uFEFFts,name\n1,"multi')).rows).toBe(0);
    const r = p.push(Buffer.from('\nline"\n2,b,extra\n3,c\n'));
    expect(tableRows(r.table, schema).map((x) => x.name)).toEqual(['multi\nline', 'c']);
    expect(brief(r.rejects)).toEqual([{ line: 4, code: 'field_count', field: undefined }]);
    expect(r.rejects[0]!.byteOffset).toBe(3 + 8 + 15);
    expect(r.rejects[0]!.raw).toBe('2,b,extra');
    expect(p.finish().rows).toBe(0);
    expect(p.stats()).toEqual({ records: 3, rows: 2, rejects: 1, bytes: 3 + 8 + 8 + 21 });
  });

  it('reset starts a new stream: header, lines and offsets start over', () => {
    const p = ChunkedParser.create(schema, { format: 'csv' });
    p.push(Buffer.from('name,ts\na,1\n'));
    const carried = p.reset();
    expect(carried.rows).toBe(0);
    const r = p.push(Buffer.from('ts,name\n2,b\n3,"'));
    expect(tableRows(r.table, schema).map((x) => x.ts)).toEqual([2]);
    expect(brief(p.finish().rejects)).toEqual([{ line: 3, code: 'malformed_csv', field: undefined }]);
  });

  it('runs pushAsync off the event loop and keeps the order of calls', async () => {
    const p = ChunkedParser.create(schema, { format: 'ndjson' });
    const lines = Array.from({ length: 5000 }, (_, i) => `{"ts":${i},"n":${i}}`).join('\n');
    const bytes = Buffer.from(lines);
    const parts = [bytes.subarray(0, 30_000), bytes.subarray(30_000, 60_000), bytes.subarray(60_000)];
    // Not awaited one by one: the calls are queued in order.
    const calls = [...parts.map((c) => p.pushAsync(c)), p.finishAsync()];
    expect(() => p.push(Buffer.from('{}'))).toThrow(/async call is still running/);
    const results = await Promise.all(calls);
    const ts = results.flatMap((r) => tableRows(r.table, schema).map((x) => x.ts));
    expect(ts).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(results.flatMap((r) => r.rejects)).toEqual([]);
  });

  it('throws clear errors for a bad schema or bad options, never for bad data', () => {
    expect(() => ChunkedParser.create({ fields: [] }, { format: 'csv' })).toThrow(/at least one field/);
    expect(() => ChunkedParser.create(schema, { format: 'xml' as 'csv' })).toThrow(/parse options JSON is invalid/);
    expect(() => ChunkedParser.create(schema, { format: 'csv', delimiter: '"' })).toThrow(/delimiter/);
    expect(() => ChunkedParser.create(schema, { format: 'csv', batchSize: 0 })).toThrow(/batchSize/);
    expect(() => ChunkedParser.create({ fields: [{ name: 't', type: 'int64' }], eventTime: 't' }, { format: 'csv' })).toThrow(/eventTime/);
    const p = ChunkedParser.create(schema, { format: 'ndjson' });
    expect(() => p.push(Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b]))).not.toThrow();
  });
});

describe('bad input corpus', () => {
  it('has at least 25 kinds of bad input, every reject code among them', () => {
    expect(badInputs.filter((c) => c.rejects.length > 0).length).toBeGreaterThanOrEqual(25);
    const codes = new Set(badInputs.flatMap((c) => c.rejects.map((r) => r.code)));
    expect([...codes].sort()).toEqual([...REJECT_CODES].sort());
  });

  for (const c of badInputs) {
    it(`${c.name}: ${c.rejects.map((r) => `${r.code}@${r.line}`).join(', ') || 'no reject'}`, async () => {
      const native = parseBytes(corpusSchema, c.options, c.bytes);
      expect(brief(native.rejects)).toEqual(c.rejects.map((r) => ({ field: undefined, ...r })));
      expect(native.rows).toBe(c.rows);
      for (const r of native.rejects) {
        expect(r.reason.length).toBeGreaterThan(0);
        expect(Buffer.byteLength(r.raw)).toBeLessThanOrEqual(256 + 3);
      }
      // The same verdict in one-byte-ish chunks, off the event loop.
      const step = Math.max(1, Math.floor(c.bytes.length / 97));
      const chunked = await runChunked(corpusSchema, c.options, c.bytes, Array.from({ length: Math.ceil(c.bytes.length / step) }, (_, k) => k * step), true);
      expect(brief(chunked.rejects)).toEqual(brief(native.rejects));
      expect(chunked.rows).toEqual(tableRows(native.table, corpusSchema));
      // And the reference agrees.
      const ref = referenceParse(corpusSchema, c.options, c.bytes);
      expect(brief(ref.rejects)).toEqual(brief(native.rejects));
      expect(ref.rows).toEqual(tableRows(native.table, corpusSchema));
    });
  }
});
