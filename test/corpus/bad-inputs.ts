/**
 * A corpus of bad input, one kind per case: each case puts the bad record
 * between good ones and says which rejects (line, code, field) it must
 * give. Good records around it must all be kept.
 */
import type { ParseOptions, RejectCode, SchemaSpec } from '../../src/core/parser.js';

export const corpusSchema: SchemaSpec = {
  fields: [
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'device', type: 'string', nullable: false },
    { name: 'temp', type: 'float64' },
    { name: 'n', type: 'int64' },
    { name: 'ok', type: 'bool' },
  ],
  eventTime: 'ts',
};

export interface ExpectedReject {
  line: number;
  code: RejectCode;
  field?: string;
}

export interface BadInputCase {
  name: string;
  options: ParseOptions;
  /** The whole input. */
  bytes: Buffer;
  rejects: ExpectedReject[];
  /** Good records that must come out as rows. */
  rows: number;
}

const GOOD_JSON = '{"ts":1,"device":"a","temp":1.5,"n":2,"ok":true}';
const GOOD_CSV = '1,a,1.5,2,true';
const CSV_HEADER = 'ts,device,temp,n,ok';

const b = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** good, bad, good: the bad record is on line 2. */
function ndjson(name: string, bad: string | Buffer, code: RejectCode, field?: string, options: Partial<ParseOptions> = {}): BadInputCase {
  return {
    name,
    options: { format: 'ndjson', ...options },
    bytes: b(GOOD_JSON + '\n', typeof bad === 'string' ? bad : [...bad], '\n' + GOOD_JSON + '\n'),
    rejects: [{ line: 2, code, ...(field ? { field } : {}) }],
    rows: 2,
  };
}

/** header, good, bad, good: the bad record is on line 3. */
function csv(name: string, bad: string | Buffer, code: RejectCode, field?: string, options: Partial<ParseOptions> = {}): BadInputCase {
  return {
    name,
    options: { format: 'csv', ...options },
    bytes: b(CSV_HEADER + '\n' + GOOD_CSV + '\n', typeof bad === 'string' ? bad : [...bad], '\n' + GOOD_CSV + '\n'),
    rejects: [{ line: 3, code, ...(field ? { field } : {}) }],
    rows: 2,
  };
}

const withDevice = (bytes: number[]): Buffer => b('{"ts":1,"device":"', bytes, '"}');
const nested = (depth: number): string => '[' .repeat(depth) + ']'.repeat(depth);

export const badInputs: BadInputCase[] = [
  ndjson('truncated object', '{"ts":1,"device":"a"', 'malformed_json'),
  ndjson('trailing comma', '{"ts":1,"device":"a",}', 'malformed_json'),
  ndjson('single-quoted strings', "{'ts':1,'device':'a'}", 'malformed_json'),
  ndjson('unquoted key', '{ts:1,"device":"a"}', 'malformed_json'),
  ndjson('text after the object', '{"ts":1,"device":"a"} trailing', 'malformed_json'),
  ndjson('two objects on one line', '{"ts":1,"device":"a"}{"ts":2,"device":"b"}', 'malformed_json'),
  ndjson('invalid escape', '{"ts":1,"device":"a\\qb"}', 'malformed_json'),
  ndjson('short \\u escape', '{"ts":1,"device":"\\u12"}', 'malformed_json'),
  ndjson('NaN literal', '{"ts":NaN,"device":"a"}', 'malformed_json'),
  ndjson('leading zero', '{"ts":01,"device":"a"}', 'malformed_json'),
  ndjson('NUL byte inside a string', b('{"ts":1,"device":"a', [0], 'b"}'), 'malformed_json'),
  ndjson('NUL byte between tokens', b('{"ts":1,', [0], '"device":"a"}'), 'malformed_json'),
  ndjson('a BOM in the middle of the stream', '\uFEFF' + GOOD_JSON, 'malformed_json'),
  ndjson('array instead of object', '[1,2,3]', 'not_an_object'),
  ndjson('bare number', '42', 'not_an_object'),
  ndjson('bare string', '"hello"', 'not_an_object'),
  ndjson('null record', 'null', 'not_an_object'),
  ndjson('duplicate key', '{"ts":1,"device":"a","device":"b"}', 'duplicate_key', 'device'),
  ndjson('string for a float', '{"ts":1,"device":"a","temp":"1.5"}', 'type_mismatch', 'temp'),
  ndjson('number for a string', '{"ts":1,"device":7}', 'type_mismatch', 'device'),
  ndjson('string for a bool', '{"ts":1,"device":"a","ok":"true"}', 'type_mismatch', 'ok'),
  ndjson('object for an int', '{"ts":1,"device":"a","n":{"v":1}}', 'type_mismatch', 'n'),
  ndjson('array for a string', '{"ts":1,"device":["a"]}', 'type_mismatch', 'device'),
  ndjson('bool for a timestamp', '{"ts":true,"device":"a"}', 'type_mismatch', 'ts'),
  ndjson('int64 overflow', '{"ts":1,"device":"a","n":9223372036854775808}', 'out_of_range', 'n'),
  ndjson('int64 underflow', '{"ts":1,"device":"a","n":-9223372036854775809}', 'out_of_range', 'n'),
  ndjson('fractional int', '{"ts":1,"device":"a","n":2.5}', 'type_mismatch', 'n'),
  ndjson('float overflow', '{"ts":1,"device":"a","temp":1e400}', 'out_of_range', 'temp'),
  ndjson('epoch out of range', '{"ts":1e300,"device":"a"}', 'out_of_range', 'ts'),
  ndjson('not a timestamp', '{"ts":"yesterday","device":"a"}', 'invalid_timestamp', 'ts'),
  ndjson('ISO time without offset', '{"ts":"2026-01-31T12:00:00","device":"a"}', 'invalid_timestamp', 'ts'),
  ndjson('impossible date', '{"ts":"2026-02-30T12:00:00Z","device":"a"}', 'invalid_timestamp', 'ts'),
  ndjson('epoch as a string', '{"ts":"1700000000000","device":"a"}', 'invalid_timestamp', 'ts'),
  ndjson('missing required field', '{"ts":1}', 'missing_field', 'device'),
  ndjson('required field null', '{"ts":null,"device":"a"}', 'missing_field', 'ts'),
  ndjson('lone continuation byte', withDevice([0x80]), 'invalid_utf8'),
  ndjson('overlong encoding', withDevice([0xc0, 0xaf]), 'invalid_utf8'),
  ndjson('UTF-8 encoded surrogate', withDevice([0xed, 0xa0, 0x80]), 'invalid_utf8'),
  ndjson('truncated sequence', withDevice([0xe2, 0x82]), 'invalid_utf8'),
  ndjson('beyond U+10FFFF', withDevice([0xf4, 0x90, 0x80, 0x80]), 'invalid_utf8'),
  ndjson('invalid byte 0xFF', withDevice([0xff]), 'invalid_utf8'),
  ndjson('unpaired surrogate escape', '{"ts":1,"device":"\\ud800"}', 'invalid_utf8', 'device'),
  ndjson('record over maxRecordBytes', `{"ts":1,"device":"${'x'.repeat(300)}"}`, 'record_too_large', undefined, { maxRecordBytes: 256 }),
  ndjson('very long line over the default limit', `{"ts":1,"device":"${'x'.repeat(1_100_000)}"}`, 'record_too_large'),
  ndjson('deeply nested unknown value, unbalanced', `{"ts":1,"device":"a","x":${'['.repeat(50_000)}}`, 'malformed_json'),
  {
    name: 'deeply nested unknown value, balanced (accepted)',
    options: { format: 'ndjson' },
    bytes: b(`{"ts":1,"device":"a","x":${nested(50_000)},"y":{"z":[{"w":null}]}}\n`, GOOD_JSON),
    rejects: [],
    rows: 2,
  },
  {
    name: 'very long line under the limit (accepted)',
    options: { format: 'ndjson' },
    bytes: b(`{"ts":1,"device":"${'y'.repeat(900_000)}"}\n`, GOOD_JSON),
    rejects: [],
    rows: 2,
  },
  {
    name: 'blank and whitespace-only lines (skipped, not rejected)',
    options: { format: 'ndjson' },
    bytes: b('\n', GOOD_JSON, '\r\n \t \r\n\n', GOOD_JSON, '\n\n'),
    rejects: [],
    rows: 2,
  },
  {
    name: 'last record cut off at end of input',
    options: { format: 'ndjson' },
    bytes: b(GOOD_JSON, '\n', GOOD_JSON, '\n{"ts":1,"dev'),
    rejects: [{ line: 3, code: 'malformed_json' }],
    rows: 2,
  },
  csv('stray quote', '1,a"b,,,', 'malformed_csv'),
  csv('text after a closing quote', '1,"a"b,,,', 'malformed_csv'),
  csv('too many fields', '1,a,1.5,2,true,extra', 'field_count'),
  csv('too few fields', '1,a', 'field_count'),
  csv('missing required value', ',a,,,', 'missing_field', 'ts'),
  csv('not a number', '1,a,warm,,', 'type_mismatch', 'temp'),
  csv('not a bool', '1,a,,,yes', 'type_mismatch', 'ok'),
  csv('int overflow', '1,a,,99999999999999999999,', 'out_of_range', 'n'),
  csv('NUL byte in a number', b('1,a,1', [0], '5,,'), 'type_mismatch', 'temp'),
  csv('ISO time without offset', '2026-01-31T12:00:00,a,,,', 'invalid_timestamp', 'ts'),
  csv('invalid UTF-8', b('1,', [0xc3, 0x28], ',,,'), 'invalid_utf8'),
  csv('record over maxRecordBytes', `1,${'x'.repeat(300)},,,`, 'record_too_large', undefined, { maxRecordBytes: 256 }),
  {
    name: 'CSV unterminated quote at end of input',
    options: { format: 'csv' },
    bytes: b(CSV_HEADER, '\n', GOOD_CSV, '\n', GOOD_CSV, '\n1,"open,,,\n'),
    rejects: [{ line: 4, code: 'malformed_csv' }],
    rows: 2,
  },
  {
    name: 'CSV header without a required column',
    options: { format: 'csv' },
    bytes: b('ts,temp\n1,1.5\n2,2.5\n'),
    rejects: [
      { line: 2, code: 'missing_field', field: 'device' },
      { line: 3, code: 'missing_field', field: 'device' },
    ],
    rows: 0,
  },
  {
    name: 'CSV empty lines (skipped, not rejected)',
    options: { format: 'csv' },
    bytes: b('\n', CSV_HEADER, '\r\n\r\n', GOOD_CSV, '\n\n', GOOD_CSV, '\n'),
    rejects: [],
    rows: 2,
  },
];
