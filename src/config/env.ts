/**
 * Environment variables that override the config file, applied before
 * validation (so an override is checked like any other value). Secrets and
 * endpoints belong in the environment, not in a committed file.
 */

/** One override: the variable, where it lands, and how its text becomes a value. */
export interface EnvOverride {
  variable: string;
  path: readonly string[];
  description: string;
  parse(text: string): unknown;
}

const text = (t: string) => t;
const list = (t: string) =>
  t
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Every override, in the order applied; documented in docs/config.md. */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'AWS_ACCESS_KEY_ID', path: ['s3', 'accessKeyId'], description: 'S3 access key id', parse: text },
  { variable: 'AWS_SECRET_ACCESS_KEY', path: ['s3', 'secretAccessKey'], description: 'S3 secret access key', parse: text },
  { variable: 'AWS_REGION', path: ['s3', 'region'], description: 'S3 region', parse: text },
  { variable: 'S3_ENDPOINT', path: ['s3', 'endpoint'], description: 'S3-compatible endpoint URL', parse: text },
  {
    variable: 'KAFKA_BROKERS',
    path: ['speed', 'source', 'brokers'],
    description: 'comma-separated host:port list; only for a kafka source (it never changes the source type)',
    parse: list,
  },
  { variable: 'PULSE_API_TOKENS', path: ['serving', 'auth', 'tokens'], description: 'comma-separated bearer tokens of the serving layer', parse: list },
];

type Env = Readonly<Record<string, string | undefined>>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns a copy of `obj` with `value` at `path`, copying only the objects along the path. */
function setIn(obj: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return obj;
  const child = obj[head];
  return { ...obj, [head]: rest.length === 0 ? value : setIn(isRecord(child) ? child : {}, rest, value) };
}

/**
 * Applies the overrides whose variable is set and not empty. The input is not
 * modified. `KAFKA_BROKERS` applies only when the config's stream source is
 * Kafka: a generator or file source stays what it is.
 */
export function applyEnvOverrides(raw: unknown, env: Env = process.env): unknown {
  if (!isRecord(raw)) return raw;
  let out = raw;
  for (const o of ENV_OVERRIDES) {
    const value = env[o.variable];
    if (value === undefined || value.trim() === '') continue;
    if (o.variable === 'KAFKA_BROKERS' && !isKafkaSource(out)) continue;
    out = setIn(out, o.path, o.parse(value));
  }
  return out;
}

function isKafkaSource(raw: Record<string, unknown>): boolean {
  const speed = raw.speed;
  return isRecord(speed) && isRecord(speed.source) && speed.source.type === 'kafka';
}

/** The overrides that `env` would apply to `raw`, by variable name (values of secrets are not included). */
export function activeEnvOverrides(raw: unknown, env: Env = process.env): string[] {
  if (!isRecord(raw)) return [];
  return ENV_OVERRIDES.filter((o) => {
    const value = env[o.variable];
    if (value === undefined || value.trim() === '') return false;
    return o.variable !== 'KAFKA_BROKERS' || isKafkaSource(raw);
  }).map((o) => o.variable);
}
