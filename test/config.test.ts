import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml, parse as parseYamlText } from 'yaml';
import {
  ConfigError,
  applyEnvOverrides,
  configJsonSchema,
  configJsonSchemaText,
  defaultConfigInput,
  findConfigFile,
  formatByteSize,
  formatDuration,
  loadConfig,
  parseByteSize,
  parseDuration,
  toNativeSpecs,
  validateConfig,
  viewAlignmentMs,
  type Config,
  type ConfigInput,
  type ConfigIssue,
} from '../src/config/index.js';

const repoRoot = join(import.meta.dirname, '..');

// Invalid configs are made by mutating plain objects, which no static type describes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

/** A small valid config each invalid case changes one thing in. */
function base(): Loose {
  return {
    schema: {
      fields: [
        { name: 'ts', type: 'timestamp', nullable: false },
        { name: 'user', type: 'string' },
        { name: 'amount', type: 'float64' },
        { name: 'qty', type: 'int64' },
        { name: 'paid', type: 'bool' },
      ],
      eventTime: 'ts',
    },
    rules: {
      checks: [{ id: 'amount_positive', field: 'amount', range: { min: 0 } }],
      derive: [{ column: 'tier', default: 'small', cases: [{ when: 'amount > 100', set: 'large' }] }],
    },
    views: [
      {
        name: 'sales_1m',
        window: { type: 'tumbling', size: '1m' },
        groupBy: ['user'],
        measures: [{ op: 'count' }, { op: 'sum', field: 'amount' }, { op: 'avg', field: 'amount' }],
      },
    ],
  };
}

function issuesOf(input: unknown): ConfigIssue[] {
  try {
    validateConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected the config to be invalid');
}

function mutate(change: (c: Loose) => void): Loose {
  const c = base();
  change(c);
  return c;
}

describe('a valid config', () => {
  it('validates and applies the defaults', () => {
    const c = validateConfig(base());
    expect(c.schema.fields[1]).toEqual({ name: 'user', type: 'string', nullable: true, unit: undefined });
    expect(c.schema.fields[0]?.unit).toBe('ms');
    expect(c.rules.onError).toBe('skip');
    expect(c.rules.checks[0]).toMatchObject({ kind: 'range', severity: 'error' });
    expect(c.views[0]?.window).toEqual({ type: 'tumbling', size: 60_000 });
    expect(c.views[0]?.measures.map((m) => m.name)).toEqual(['count', 'sum_amount', 'avg_amount']);
    expect(c.batch).toMatchObject({
      source: './.pulse/lake/raw/',
      viewStore: './.pulse/store/',
      errors: './.pulse/store/errors/',
      format: 'ndjson',
      csv: { delimiter: ',', header: true },
      schedule: '0 2 * * *',
      chunkSize: 1024 * 1024,
      maxRecordBytes: 1024 * 1024,
      lockTtl: 7_200_000,
    });
    expect(c.speed).toBeUndefined();
    expect(c.s3).toEqual({ region: 'us-east-1', forcePathStyle: false });
    expect(c.serving).toMatchObject({ host: '127.0.0.1', port: 8080, auth: { tokens: [] }, maxRange: 31 * 86_400_000, cors: false });
  });

  it('fills speed defaults from the batch section and the Kafka DLQ topic from the topic', () => {
    const c = validateConfig(
      mutate((c) => {
        c.batch = { source: 's3://lake/raw/', viewStore: 's3://lake/views/' };
        c.speed = { source: { type: 'kafka', brokers: ['127.0.0.1:9092'], topic: 'events', group: 'pulse-speed' } };
      }),
    );
    expect(c.batch.errors).toBe('s3://lake/views/errors/');
    expect(c.speed).toMatchObject({
      source: { type: 'kafka', dlqTopic: 'events.dlq', clientId: 'pulse' },
      archive: 's3://lake/raw/',
      viewStore: 's3://lake/views/',
      allowedLateness: 60_000,
      publishInterval: 1_000,
      maxBatchWait: 250,
    });
  });

  it('lets measures group by and count a derived column', () => {
    const c = validateConfig(
      mutate((c) => {
        c.views[0].groupBy = ['tier'];
        c.views[0].measures.push({ op: 'distinct', field: 'tier' });
      }),
    );
    expect(c.views[0]?.measures[3]).toMatchObject({ name: 'distinct_tier', precision: 12 });
  });

  it('sets path-style addressing when an S3 endpoint is given', () => {
    const c = validateConfig(mutate((c) => (c.s3 = { endpoint: 'http://127.0.0.1:19000' })));
    expect(c.s3.forcePathStyle).toBe(true);
  });

  it('accepts a JSON Schema reference key', () => {
    expect(() => validateConfig(mutate((c) => (c.$schema = './docs/pulse.config.schema.json')))).not.toThrow();
  });
});

/** [what is wrong, the change, the expected path, a part of the expected reason]. */
const invalid: [string, (c: Loose) => void, string, string | RegExp][] = [
  ['an unknown field type', (c) => (c.schema.fields[3].type = 'decimal'), 'schema.fields.3.type', "unknown type 'decimal': expected one of string, int64, float64, bool, timestamp"],
  ['a duplicate field name', (c) => c.schema.fields.push({ name: 'user', type: 'string' }), 'schema.fields.5.name', "duplicate field name 'user' (first defined at schema.fields.1)"],
  ['an event-time field that does not exist', (c) => (c.schema.eventTime = 'time'), 'schema.eventTime', "unknown field 'time'"],
  ['an event-time field that is not a timestamp', (c) => (c.schema.eventTime = 'qty'), 'schema.eventTime', "field 'qty' must have type timestamp, not int64"],
  ['a nullable event-time field', (c) => delete c.schema.fields[0].nullable, 'schema.eventTime', "field 'ts' must be declared nullable: false"],
  ['a unit on a non-timestamp field', (c) => (c.schema.fields[2].unit = 's'), 'schema.fields.2.unit', "only timestamp fields take a unit ('amount' is float64)"],
  ['a misspelt key', (c) => (c.schema.evenTime = 'ts'), 'schema.evenTime', 'unknown key'],
  ['no fields', (c) => (c.schema.fields = []), 'schema.fields', 'needs at least 1 entry'],
  ['no views', (c) => delete c.views, 'views', 'required'],
  ['a check with two kinds', (c) => (c.rules.checks[0].in = [1, 2]), 'rules.checks.0', 'a check has exactly one kind, got range and in'],
  ['a check with no kind', (c) => delete c.rules.checks[0].range, 'rules.checks.0', 'a check needs one of required, range, in, regex, length, type, expr'],
  ['a duplicate rule id', (c) => c.rules.checks.push({ id: 'amount_positive', field: 'user', required: true }), 'rules.checks.1.id', "duplicate rule id 'amount_positive'"],
  ['a field check on an unknown field', (c) => (c.rules.checks[0].field = 'amout'), 'rules.checks.0.field', "unknown field 'amout'"],
  ['a field check without a field', (c) => delete c.rules.checks[0].field, 'rules.checks.0.field', 'required: a range check applies to a field'],
  ['a range on a string field', (c) => (c.rules.checks[0].field = 'user'), 'rules.checks.0.range', "range applies to int64, float64 and timestamp fields, not string ('user' is string)"],
  ['a regex on a number field', (c) => c.rules.checks.push({ id: 'r', field: 'qty', regex: '^\\d+$' }), 'rules.checks.1.regex', 'regex applies to string fields, not int64'],
  ['a length on a bool field', (c) => c.rules.checks.push({ id: 'l', field: 'paid', length: { max: 3 } }), 'rules.checks.1.length', 'length applies to string fields, not bool'],
  ['a regex that does not compile', (c) => c.rules.checks.push({ id: 'r', field: 'user', regex: '([a-z]+' }), 'rules.checks.1.regex', /^invalid regular expression: .*Unterminated group/],
  ['a range with min above max', (c) => (c.rules.checks[0].range = { min: 5, max: 1 }), 'rules.checks.0.range', 'min 5 is greater than max 1'],
  ['an empty exclusive range', (c) => (c.rules.checks[0].range = { min: 1, max: 1, maxExclusive: true }), 'rules.checks.0.range', 'the range (1, 1) is empty'],
  ['an in value of the wrong type', (c) => c.rules.checks.push({ id: 'i', field: 'user', in: ['a', 2] }), 'rules.checks.1.in.1', "2 is not a string value ('user' is string)"],
  ['an expr check with a field', (c) => c.rules.checks.push({ id: 'e', field: 'qty', expr: 'qty > 0' }), 'rules.checks.1.field', 'an expr check names its fields in the expression; remove field'],
  ['an unknown severity', (c) => (c.rules.checks[0].severity = 'fatal'), 'rules.checks.0.severity', 'expected one of "error", "warn", got \'fatal\''],
  ['an invalid rule id', (c) => (c.rules.checks[0].id = '1st rule'), 'rules.checks.0.id', "invalid rule id '1st rule'"],
  ['a derived column that shadows a field', (c) => (c.rules.derive[0].column = 'user'), 'rules.derive.0.column', "derived column 'user' clashes with a schema field"],
  ['a derivation without cases', (c) => (c.rules.derive[0].cases = []), 'rules.derive.0.cases', 'needs at least 1 entry'],
  ['an unknown onError', (c) => (c.rules.onError = 'ignore'), 'rules.onError', 'expected one of "skip", "halt"'],
  ['a view name with capitals', (c) => (c.views[0].name = 'Sales'), 'views.0.name', "invalid view name 'Sales': use [a-z][a-z0-9_]*"],
  ['a duplicate view name', (c) => c.views.push({ ...c.views[0] }), 'views.1.name', "duplicate view name 'sales_1m' (first defined at views.0)"],
  ['an unknown window type', (c) => (c.views[0].window = { type: 'rolling', size: '1m' }), 'views.0.window.type', "unknown window type 'rolling': expected one of tumbling, hopping, session"],
  ['a window without a type', (c) => (c.views[0].window = { size: '1m' }), 'views.0.window.type', 'required: window type, one of tumbling, hopping, session'],
  ['a slide longer than the window', (c) => (c.views[0].window = { type: 'hopping', size: '1m', slide: '2m' }), 'views.0.window.slide', 'slide (120000ms) must not exceed size (60000ms)'],
  ['a zero window size', (c) => (c.views[0].window.size = '0s'), 'views.0.window.size', 'duration must be at least 1ms, got 0ms'],
  ['a duration in words', (c) => (c.views[0].window.size = '1 minute'), 'views.0.window.size', "invalid duration '1 minute'"],
  ['a session without a gap', (c) => (c.views[0].window = { type: 'session' }), 'views.0.window.gap', 'required'],
  ['a measure on a misspelt field', (c) => c.views[0].measures.push({ op: 'max', field: 'amout' }), 'views.0.measures.3.field', "unknown field 'amout'"],
  ['a sum of a string field', (c) => (c.views[0].measures[1].field = 'user'), 'views.0.measures.1.field', "sum needs an int64, float64 or timestamp field; 'user' is a string"],
  ['an avg of a derived column', (c) => (c.views[0].measures[2].field = 'tier'), 'views.0.measures.2.field', "avg needs an int64, float64 or timestamp field; 'tier' is a derived column"],
  ['a sum without a field', (c) => delete c.views[0].measures[1].field, 'views.0.measures.1.field', 'required: sum aggregates a field'],
  ['a quantile without q', (c) => c.views[0].measures.push({ op: 'quantile', field: 'amount' }), 'views.0.measures.3.q', 'required: quantile needs q'],
  ['a quantile above 1', (c) => c.views[0].measures.push({ op: 'quantile', field: 'amount', q: 95 }), 'views.0.measures.3.q', 'must be at most 1, got number 95'],
  ['a precision on a count', (c) => (c.views[0].measures[0].precision = 10), 'views.0.measures.0.precision', 'only distinct takes a precision, not count'],
  ['a precision out of range', (c) => c.views[0].measures.push({ op: 'distinct', field: 'user', precision: 2 }), 'views.0.measures.3.precision', 'must be at least 4, got number 2'],
  ['two measures with one default name', (c) => c.views[0].measures.push({ op: 'count' }), 'views.0.measures.3.name', "duplicate measure name 'count' (the default name: give the measure a name)"],
  ['a measure named like a group field', (c) => (c.views[0].measures[0].name = 'user'), 'views.0.measures.0.name', "measure name 'user' clashes with a group field"],
  ['a group field that does not exist', (c) => (c.views[0].groupBy = ['usr']), 'views.0.groupBy.0', "unknown field 'usr'"],
  ['a view without measures', (c) => (c.views[0].measures = []), 'views.0.measures', 'needs at least 1 entry'],
  ['an unsupported storage scheme', (c) => (c.batch = { source: 'gs://lake/raw/' }), 'batch.source', "unsupported scheme 'gs://'"],
  ['an invalid bucket name', (c) => (c.batch = { viewStore: 's3://My_Bucket/views/' }), 'batch.viewStore', "invalid S3 bucket name 'My_Bucket'"],
  ['an invalid cron schedule', (c) => (c.batch = { schedule: '61 * * * *' }), 'batch.schedule', "invalid cron schedule '61 * * * *': Invalid value for minute: 61"],
  ['a size with an unknown unit', (c) => (c.batch = { chunkSize: '8 megs' }), 'batch.chunkSize', "invalid size '8 megs'"],
  ['a two-character CSV delimiter', (c) => (c.batch = { format: 'csv', csv: { delimiter: ';;' } }), 'batch.csv.delimiter', 'the delimiter is one character'],
  ['an unknown record format', (c) => (c.batch = { format: 'parquet' }), 'batch.format', 'expected one of "ndjson", "csv", got \'parquet\''],
  ['a fractional concurrency', (c) => (c.batch = { concurrency: 1.5 }), 'batch.concurrency', 'expected an integer, got number 1.5'],
  ['an unknown stream source', (c) => (c.speed = { source: { type: 'rabbitmq' } }), 'speed.source.type', "unknown source type 'rabbitmq': expected one of kafka, generator, file"],
  ['a Kafka source without a group', (c) => (c.speed = { source: { type: 'kafka', brokers: ['b:9092'], topic: 'events' } }), 'speed.source.group', 'required'],
  ['a broker without a port', (c) => (c.speed = { source: { type: 'kafka', brokers: ['localhost'], topic: 'events', group: 'g' } }), 'speed.source.brokers.0', "invalid broker 'localhost': use host:port"],
  ['a negative lateness', (c) => (c.speed = { source: { type: 'generator' }, allowedLateness: -1 }), 'speed.allowedLateness', 'a duration must not be negative'],
  ['an access key without its secret', (c) => (c.s3 = { accessKeyId: 'AKIA' }), 's3.secretAccessKey', 'required: accessKeyId and secretAccessKey go together'],
  ['an endpoint that is not a URL', (c) => (c.s3 = { endpoint: 'minio:9000' }), 's3.endpoint', 'invalid endpoint "minio:9000": use an http:// or https:// URL'],
  ['a port out of range', (c) => (c.serving = { port: 70_000 }), 'serving.port', 'must be at most 65535, got number 70000'],
  ['a short API token', (c) => (c.serving = { auth: { tokens: ['secret'] } }), 'serving.auth.tokens.0', 'a token needs at least 16 characters'],
  ['a string where a number belongs', (c) => (c.serving = { maxRows: '100' }), 'serving.maxRows', "expected number, got '100'"],
];

describe('an invalid config', () => {
  it.each(invalid)('reports %s with its path', (_what, change, path, reason) => {
    const issues = issuesOf(mutate(change));
    const issue = issues.find((i) => i.path === path);
    expect(issue, `no issue at ${path}; got ${JSON.stringify(issues)}`).toBeDefined();
    if (typeof reason === 'string') expect(issue?.message).toContain(reason);
    else expect(issue?.message).toMatch(reason);
  });

  it('lists every problem at once, section by section', () => {
    const issues = issuesOf(
      mutate((c) => {
        c.serving = { port: -1 };
        c.schema.fields[3].type = 'decimal';
        c.views[0].measures.push({ op: 'sum', field: 'amout' });
        c.rules.checks[0].field = 'nope';
        c.batch = { schedule: 'nightly' };
      }),
    );
    expect(issues.map((i) => i.path)).toEqual(['schema.fields.3.type', 'rules.checks.0.field', 'views.0.measures.3.field', 'batch.schedule', 'serving.port']);
  });

  it('formats the error as one line per problem', () => {
    try {
      validateConfig(mutate((c) => c.views[0].measures.push({ op: 'sum', field: 'amout' })), 'pulse.config.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe("invalid config pulse.config.yaml (1 problem):\n  views.0.measures.3.field: unknown field 'amout'");
    }
  });

  it('rejects a config that is not an object', () => {
    expect(issuesOf(null)).toEqual([{ path: '', message: 'expected object, got null' }]);
    expect(issuesOf({ schema: 5, views: 'x' })).toEqual([
      { path: 'schema', message: 'expected object, got number 5' },
      { path: 'views', message: "expected array, got 'x'" },
    ]);
  });
});

describe('any input', () => {
  /** Every path into a value: the places a random value can be put. */
  function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    if (typeof value !== 'object' || value === null) return [prefix];
    const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    return [prefix, ...keys.flatMap((k) => paths((value as Loose)[k], [...prefix, k]))];
  }

  function setAt(root: Loose, path: (string | number)[], value: unknown): Loose {
    if (path.length === 0) return value;
    let node = root;
    for (const key of path.slice(0, -1)) node = node[key];
    node[path[path.length - 1] as string | number] = value;
    return root;
  }

  it('gets a config or a ConfigError, never another exception', () => {
    const all = [...paths(base()), ...paths(defaultConfigInput)];
    fc.assert(
      fc.property(fc.constantFrom(...all), fc.jsonValue(), fc.boolean(), (path, value, useDefaults) => {
        const root = useDefaults ? structuredClone(defaultConfigInput) : base();
        let input: unknown;
        try {
          input = setAt(root, path, value);
        } catch {
          return; // the path does not exist in this base
        }
        try {
          validateConfig(input);
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          for (const issue of (e as ConfigError).issues) expect(issue.message).not.toBe('');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('durations and sizes', () => {
  it('parses the duration forms', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('0s')).toBe(0);
    for (const bad of ['', '1', 'm', '1.5s', '-1s', '1 m', '1w', '1mss']) expect(parseDuration(bad), bad).toBeUndefined();
  });

  it('formats durations in the largest exact unit', () => {
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(1_500)).toBe('1500ms');
    expect(formatDuration(0)).toBe('0ms');
  });

  it('takes numbers of milliseconds in a config', () => {
    expect(validateConfig(mutate((c) => (c.views[0].window.size = 45_000))).views[0]?.window).toEqual({ type: 'tumbling', size: 45_000 });
  });

  it('round-trips every duration: ms → text → ms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('normalises duration text: text → ms → text → ms is stable', () => {
    const text = fc.tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom('ms', 's', 'm', 'h', 'd')).map(([n, u]) => `${n}${u}`);
    fc.assert(
      fc.property(text, (t) => {
        const ms = parseDuration(t);
        expect(ms).toBeDefined();
        const canonical = formatDuration(ms as number);
        expect(parseDuration(canonical)).toBe(ms);
        expect(formatDuration(parseDuration(canonical) as number)).toBe(canonical);
      }),
    );
  });

  it('parses sizes in binary and SI units', () => {
    expect(parseByteSize('64KiB')).toBe(65_536);
    expect(parseByteSize('1MiB')).toBe(1_048_576);
    expect(parseByteSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseByteSize('8MB')).toBe(8_000_000);
    expect(parseByteSize('1 kB')).toBe(1_000);
    expect(parseByteSize('512B')).toBe(512);
    for (const bad of ['', 'MiB', '1.5MiB', '1mib', '-1KiB', '1TiB']) expect(parseByteSize(bad), bad).toBeUndefined();
    expect(validateConfig(mutate((c) => (c.batch = { chunkSize: '64KiB', maxRecordBytes: 4096 }))).batch).toMatchObject({ chunkSize: 65_536, maxRecordBytes: 4096 });
  });

  it('round-trips every size: bytes → text → bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (bytes) => {
        expect(parseByteSize(formatByteSize(bytes))).toBe(bytes);
      }),
    );
    expect(formatByteSize(65_536)).toBe('64KiB');
    expect(formatByteSize(1_000)).toBe('1000B');
  });
});

describe('environment overrides', () => {
  const kafka = () => mutate((c) => (c.speed = { source: { type: 'kafka', brokers: ['file-broker:9092'], topic: 'events', group: 'g' } }));

  it('sets S3 settings from AWS_* and S3_ENDPOINT', () => {
    const env = { AWS_ACCESS_KEY_ID: 'pulse', AWS_SECRET_ACCESS_KEY: 'pulse-secret', AWS_REGION: 'eu-west-1', S3_ENDPOINT: 'http://127.0.0.1:19000' };
    const c = validateConfig(applyEnvOverrides(mutate((c) => (c.s3 = { region: 'us-east-2' })), env));
    expect(c.s3).toEqual({ accessKeyId: 'pulse', secretAccessKey: 'pulse-secret', region: 'eu-west-1', endpoint: 'http://127.0.0.1:19000', forcePathStyle: true });
  });

  it('replaces the brokers of a Kafka source', () => {
    const c = validateConfig(applyEnvOverrides(kafka(), { KAFKA_BROKERS: '127.0.0.1:19092, 127.0.0.1:19093' }));
    expect(c.speed?.source).toMatchObject({ type: 'kafka', brokers: ['127.0.0.1:19092', '127.0.0.1:19093'] });
  });

  it('leaves a generator source alone when KAFKA_BROKERS is set', () => {
    const input = mutate((c) => (c.speed = { source: { type: 'generator', eventsPerSecond: 5 } }));
    const c = validateConfig(applyEnvOverrides(input, { KAFKA_BROKERS: '127.0.0.1:19092' }));
    expect(c.speed?.source).toEqual({ type: 'generator', eventsPerSecond: 5 });
  });

  it('sets the API tokens from PULSE_API_TOKENS', () => {
    const c = validateConfig(applyEnvOverrides(base(), { PULSE_API_TOKENS: 'token-aaaaaaaaaaaaaaaa,token-bbbbbbbbbbbbbbbb' }));
    expect(c.serving.auth.tokens).toEqual(['token-aaaaaaaaaaaaaaaa', 'token-bbbbbbbbbbbbbbbb']);
  });

  it('validates an override like any other value', () => {
    const issues = issuesOf(applyEnvOverrides(kafka(), { KAFKA_BROKERS: 'no-port', S3_ENDPOINT: 'nope' }));
    expect(issues.map((i) => i.path)).toEqual(['speed.source.brokers.0', 's3.endpoint']);
  });

  it('ignores empty variables and never changes its input', () => {
    const input = kafka();
    const before = JSON.stringify(input);
    const out = applyEnvOverrides(input, { KAFKA_BROKERS: '', AWS_REGION: '  ', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' });
    expect(JSON.stringify(input)).toBe(before);
    expect((out as Loose).speed.source.brokers).toEqual(['file-broker:9092']);
    expect((out as Loose).s3).toEqual({ accessKeyId: 'x', secretAccessKey: 'y' });
  });
});

describe('config files', () => {
  let dir: string;
  const configModule = pathToFileURL(join(repoRoot, 'src', 'config', 'index.ts')).href;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pulse-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, text: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  }

  async function loadError(file: string): Promise<ConfigError> {
    try {
      await loadConfig({ file, env: {} });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return e as ConfigError;
    }
    throw new Error(`expected ${file} to fail`);
  }

  it('loads the same config from YAML, JSON and TypeScript', async () => {
    const input = base();
    const yamlFile = await write('same.yaml', toYaml(input));
    const jsonFile = await write('same.json', JSON.stringify(input, null, 2));
    const tsFile = await write('same.ts', `import { defineConfig } from '${configModule}';\nexport default defineConfig(${JSON.stringify(input)});\n`);
    const fromYaml = await loadConfig({ file: yamlFile, env: {} });
    const fromJson = await loadConfig({ file: jsonFile, env: {} });
    const fromTs = await loadConfig({ file: tsFile, env: {} });
    expect(fromYaml.file).toBe(yamlFile);
    expect(fromJson.config).toEqual(fromYaml.config);
    expect(fromTs.config).toEqual(fromYaml.config);
    expect(fromYaml.config.views).toEqual(validateConfig(input).views);
  });

  it('round-trips the embedded defaults through a YAML file', async () => {
    const file = await write('defaults.yaml', toYaml(defaultConfigInput));
    const fromFile = await loadConfig({ file, env: {} });
    const embedded = await loadConfig({ cwd: dir, env: {} });
    expect(embedded.file).toBeUndefined();
    expect(fromFile.config).toEqual(embedded.config);
  });

  it('loads a TypeScript config whose default export is an async function', async () => {
    const file = await write('fn.ts', `import { defineConfig } from '${configModule}';\nconst n: number = 2;\nexport default async () => defineConfig({ ...${JSON.stringify(base())}, serving: { port: 9000 + n } });\n`);
    expect((await loadConfig({ file, env: {} })).config.serving.port).toBe(9002);
  });

  it('resolves relative paths against the config file folder', async () => {
    const file = await write('paths.json', JSON.stringify({ ...base(), batch: { source: 'lake/raw/', viewStore: 's3://views-bucket/store/' }, speed: { source: { type: 'file', path: 'events.ndjson' } } }));
    const { config, baseDir } = await loadConfig({ file, env: {} });
    expect(baseDir).toBe(dir);
    expect(config.batch.source).toBe(join(dir, 'lake', 'raw') + '/');
    expect(config.batch.viewStore).toBe('s3://views-bucket/store/');
    expect(config.batch.errors).toBe('s3://views-bucket/store/errors/');
    expect(config.speed?.archive).toBe(join(dir, 'lake', 'raw') + '/');
    expect(config.speed?.source).toEqual({ type: 'file', path: join(dir, 'events.ndjson') });
  });

  it('finds pulse.config.* in the working directory, else uses the embedded defaults', async () => {
    const sub = await mkdtemp(join(dir, 'find-'));
    expect(findConfigFile(sub)).toBeUndefined();
    expect((await loadConfig({ cwd: sub, env: {} })).config.views.map((v) => v.name)).toEqual(['device_temperature_1m', 'site_activity_5m', 'device_sessions']);
    await writeFile(join(sub, 'pulse.config.yml'), toYaml(base()));
    const loaded = await loadConfig({ cwd: sub, env: {} });
    expect(loaded.file).toBe(join(sub, 'pulse.config.yml'));
    expect(loaded.config.views.map((v) => v.name)).toEqual(['sales_1m']);
  });

  it('applies environment overrides to a file', async () => {
    const file = await write('env.yaml', toYaml(base()));
    const { config } = await loadConfig({ file, env: { S3_ENDPOINT: 'http://127.0.0.1:19000', PULSE_API_TOKENS: 'abcdefghijklmnopqrstuvwxyz' } });
    expect(config.s3.endpoint).toBe('http://127.0.0.1:19000');
    expect(config.serving.auth.tokens).toEqual(['abcdefghijklmnopqrstuvwxyz']);
  });

  it('names the line and column of a YAML syntax error', async () => {
    const err = await loadError(await write('broken.yaml', 'schema:\n  fields: [\n    { name: ts, type: timestamp }\nviews: []\n'));
    expect(err.file).toBe(join(dir, 'broken.yaml'));
    expect(err.issues[0]?.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  it('rejects duplicate YAML keys with their line', async () => {
    const err = await loadError(await write('dup.yaml', 'schema: {}\nviews: []\nschema: {}\n'));
    expect(err.issues).toEqual([{ path: '', message: 'YAML syntax error at line 3, column 1: Map keys must be unique' }]);
  });

  it('names the line and column of every JSON syntax error', async () => {
    const err = await loadError(await write('broken.json', '{\n  "schema": {},\n  "views": [1, 2,]\n}\n'));
    expect(err.issues).toEqual([{ path: '', message: 'JSON syntax error at line 3, column 18: value expected' }]);
    const unclosed = await loadError(await write('unclosed.json', '{\n  "schema": {}\n'));
    expect(unclosed.issues).toEqual([{ path: '', message: 'JSON syntax error at line 3, column 1: close brace expected' }]);
  });

  it('reports an empty file, a missing file and an unknown extension', async () => {
    expect((await loadError(await write('empty.yaml', '# nothing\n'))).issues).toEqual([{ path: '', message: 'the config file is empty' }]);
    expect((await loadError(join(dir, 'missing.yaml'))).issues).toEqual([{ path: '', message: 'file not found' }]);
    expect((await loadError(join(dir, 'missing.ts'))).issues).toEqual([{ path: '', message: 'file not found' }]);
    expect((await loadError(await write('config.toml', 'a = 1\n'))).issues[0]?.message).toBe("unsupported config file type '.toml': use .yaml, .yml, .json or .ts");
  });

  it('reports a TypeScript config without a default export, or that does not compile', async () => {
    const noDefault = await loadError(await write('nodefault.ts', 'export const config = {};\n'));
    expect(noDefault.issues[0]?.message).toBe('the module has no default export: use `export default defineConfig({ … })`');
    const broken = await loadError(await write('broken.ts', 'export default {{;\n'));
    expect(broken.issues[0]?.message).toMatch(/^cannot load the module: /);
  });

  it('lists every validation problem of a file with the file name', async () => {
    const file = await write('invalid.yaml', toYaml(mutate((c) => ((c.views[0].measures[1].field = 'amout'), (c.serving = { port: 'http' })))));
    const err = await loadError(file);
    expect(err.file).toBe(file);
    expect(err.issues).toEqual([
      { path: 'views.0.measures.1.field', message: "unknown field 'amout'" },
      { path: 'serving.port', message: "expected number, got 'http'" },
    ]);
  });
});

describe('the embedded defaults', () => {
  let config: Config;
  beforeAll(() => {
    config = validateConfig(defaultConfigInput);
  });

  it('describe the IoT demo: generator stream, local folders, loopback serving', () => {
    expect(config.schema.fields.map((f) => f.name)).toEqual(['ts', 'device', 'site', 'temperature', 'humidity', 'battery', 'status']);
    expect(config.speed?.source).toEqual({ type: 'generator', eventsPerSecond: 200 });
    expect(config.batch.source).toBe('./.pulse/lake/raw/');
    expect(config.batch.viewStore).toBe('./.pulse/store/');
    expect(config.speed?.archive).toBe('./.pulse/lake/raw/');
    expect(config.serving).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.rules.checks.filter((c) => c.severity === 'warn')).toHaveLength(1);
    expect(config.rules.checks.some((c) => c.kind === 'expr')).toBe(true);
  });

  it('are the YAML shown in docs/config.md', async () => {
    const doc = await readFile(join(repoRoot, 'docs', 'config.md'), 'utf8');
    const block = /## The embedded defaults as YAML\s+```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    expect(validateConfig(parseYamlText(block as string))).toEqual(config);
  });

  it('turn into the native specs of docs/native-contract.md', () => {
    const specs = toNativeSpecs(config);
    expect(specs.schema).toEqual({
      fields: [
        { name: 'ts', type: 'timestamp', nullable: false, unit: 'ms' },
        { name: 'device', type: 'string', nullable: false },
        { name: 'site', type: 'string', nullable: false },
        { name: 'temperature', type: 'float64', nullable: true },
        { name: 'humidity', type: 'float64', nullable: true },
        { name: 'battery', type: 'int64', nullable: true },
        { name: 'status', type: 'string', nullable: true },
      ],
      eventTime: 'ts',
    });
    expect(specs.batchParse).toEqual({ format: 'ndjson', delimiter: ',', header: true, maxRecordBytes: 1_048_576, batchSize: 65_536 });
    expect(specs.speedParse).toEqual({ format: 'ndjson', delimiter: ',', header: false, maxRecordBytes: 1_048_576, batchSize: 65_536 });
    expect(specs.rules).toEqual({
      onError: 'skip',
      checks: [
        { id: 'temperature_range', field: 'temperature', range: { min: -40, max: 125 }, severity: 'error', message: 'temperature outside the sensor range (-40..125 °C)' },
        { id: 'battery_range', field: 'battery', range: { min: 0, max: 100 }, severity: 'error', message: 'battery level is a percentage' },
        { id: 'status_known', field: 'status', in: ['online', 'idle', 'maintenance', 'fault', 'offline'], severity: 'error' },
        { id: 'offline_without_reading', expr: "not (status = 'offline') or temperature is null", severity: 'error', message: 'an offline device cannot report a temperature' },
        { id: 'humidity_plausible', field: 'humidity', range: { min: 0, max: 100 }, severity: 'warn', message: 'relative humidity outside 0..100 %' },
      ],
      derive: [
        {
          column: 'health',
          default: 'ok',
          cases: [
            { when: 'battery < 15', set: 'low_battery' },
            { when: 'temperature > 80', set: 'overheat' },
          ],
        },
      ],
    });
    expect(specs.views).toEqual([
      {
        name: 'device_temperature_1m',
        window: { type: 'tumbling', sizeMs: 60_000 },
        groupBy: ['device'],
        measures: [
          { name: 'count', op: 'count' },
          { name: 'avg_temperature', op: 'avg', field: 'temperature' },
          { name: 'min_temperature', op: 'min', field: 'temperature' },
          { name: 'max_temperature', op: 'max', field: 'temperature' },
          { name: 'p95_temperature', op: 'quantile', field: 'temperature', q: 0.95, relativeAccuracy: 0.01 },
        ],
      },
      {
        name: 'site_activity_5m',
        window: { type: 'hopping', sizeMs: 300_000, slideMs: 60_000 },
        groupBy: ['site'],
        measures: [
          { name: 'count', op: 'count' },
          { name: 'devices', op: 'distinct', field: 'device', precision: 12 },
        ],
      },
      {
        name: 'device_sessions',
        window: { type: 'session', gapMs: 120_000 },
        groupBy: ['device'],
        measures: [{ name: 'count', op: 'count' }],
      },
    ]);
    // Specs are plain JSON: nothing is lost in a round trip through the text the core receives.
    expect(JSON.parse(JSON.stringify(specs))).toEqual(specs);
  });

  it('give each view its alignment', () => {
    expect(config.views.map(viewAlignmentMs)).toEqual([60_000, 60_000, 60_000]);
    const c = validateConfig(
      mutate((c) => {
        c.views = [
          { name: 'h', window: { type: 'hopping', size: '10m', slide: '4m' }, measures: [{ op: 'count' }] },
          { name: 's', window: { type: 'session', gap: '30s', align: '5m' }, measures: [{ op: 'count' }] },
        ];
      }),
    );
    expect(c.views.map(viewAlignmentMs)).toEqual([120_000, 300_000]);
    expect(toNativeSpecs(c).views.map((v) => v.window)).toEqual([
      { type: 'hopping', sizeMs: 600_000, slideMs: 240_000 },
      { type: 'session', gapMs: 30_000, alignMs: 300_000 },
    ]);
  });

  it('send CSV options and exclusive range bounds to the core as given', () => {
    const c = validateConfig(
      mutate((c) => {
        c.batch = { format: 'csv', csv: { delimiter: ';', header: false } };
        c.rules.checks[0].range = { min: 0, minExclusive: true };
      }),
    );
    const specs = toNativeSpecs(c);
    expect(specs.batchParse).toMatchObject({ format: 'csv', delimiter: ';', header: false });
    expect(specs.speedParse).toBeUndefined();
    expect(specs.rules.checks[0]).toEqual({ id: 'amount_positive', field: 'amount', range: { min: 0, minExclusive: true }, severity: 'error' });
  });
});

describe('the JSON Schema', () => {
  it('is committed up to date in docs/pulse.config.schema.json', async () => {
    const committed = await readFile(join(repoRoot, 'docs', 'pulse.config.schema.json'), 'utf8');
    expect(committed, 'regenerate with: npx tsx src/cli/main.ts config schema > docs/pulse.config.schema.json').toBe(configJsonSchemaText());
  });

  it('accepts the defaults and rejects what the shape forbids', () => {
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(configJsonSchema());
    const ok = (input: ConfigInput | Record<string, unknown>) => validate(input);
    expect(ok(defaultConfigInput), JSON.stringify(validate.errors)).toBe(true);
    expect(ok(base()), JSON.stringify(validate.errors)).toBe(true);
    expect(ok(mutate((c) => (c.schema.fields[0].type = 'decimal')))).toBe(false);
    expect(ok(mutate((c) => (c.views[0].window.size = '1 minute')))).toBe(false);
    expect(ok(mutate((c) => (c.batch = { chunkSize: '1 TB' })))).toBe(false);
    expect(ok(mutate((c) => (c.serving = { port: 8080, extra: true })))).toBe(false);
  });
});
