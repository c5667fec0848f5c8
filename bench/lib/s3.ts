/**
 * The real S3 server for benchmarks: found on its port, or started with
 * scripts/services.sh (and then stopped again), plus fresh buckets and the
 * batch config the batch benchmarks run with.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { validateConfig, type Config, type ConfigInput } from '../../src/config/index.js';
import { benchSchema } from './data.js';

const ROOT = join(import.meta.dirname, '..', '..');
const port = Number(process.env.PULSE_S3_PORT ?? 19000);

function portOpen(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

/** Makes sure S3Proxy answers; resolves with a function that stops it if this call started it. */
export async function ensureS3(): Promise<() => void> {
  process.env.S3_ENDPOINT ??= `http://127.0.0.1:${port}`;
  process.env.AWS_ACCESS_KEY_ID ??= process.env.PULSE_S3_IDENTITY ?? 'pulse';
  process.env.AWS_SECRET_ACCESS_KEY ??= process.env.PULSE_S3_CREDENTIAL ?? 'pulse-secret';
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (await portOpen()) return () => {};
  process.stderr.write('  starting S3Proxy (bash scripts/services.sh start s3)\n');
  execFileSync('bash', ['scripts/services.sh', 'start', 's3'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
  return () => execFileSync('bash', ['scripts/services.sh', 'stop', 's3'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
}

export async function createBucket(prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const client = new S3Client({ endpoint: process.env.S3_ENDPOINT!, region: process.env.AWS_REGION!, forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: name }));
  client.destroy();
  return name;
}

/** The benchmark dataset's schema with two rules and two views whose state stays small (hours × sites, days × devices). */
export function batchBenchConfig(batch: Record<string, unknown>): Config {
  return validateConfig(batchBenchConfigInput(batch));
}

/** The same config as a config file holds it. */
export function batchBenchConfigInput(batch: Record<string, unknown>): ConfigInput {
  return {
    schema: { fields: benchSchema.fields.map((f) => ({ ...f })), eventTime: benchSchema.eventTime },
    rules: {
      checks: [
        { id: 'temperature_range', field: 'temperature', range: { min: -40, max: 125 } },
        { id: 'status_known', field: 'status', in: ['ok', 'degraded', 'offline', 'maintenance'], severity: 'warn' },
      ],
    },
    views: [
      {
        name: 'site_hourly',
        window: { type: 'tumbling', size: '1h' },
        groupBy: ['site'],
        measures: [
          { name: 'n', op: 'count' },
          { name: 'avg_temp', op: 'avg', field: 'temperature' },
          { name: 'p95_temp', op: 'quantile', field: 'temperature', q: 0.95 },
          { name: 'devices', op: 'distinct', field: 'device' },
        ],
      },
      {
        name: 'device_daily',
        window: { type: 'tumbling', size: '1d' },
        groupBy: ['device'],
        measures: [
          { name: 'n', op: 'count' },
          { name: 'avg_temp', op: 'avg', field: 'temperature' },
          { name: 'max_battery', op: 'max', field: 'battery' },
        ],
      },
    ],
    batch,
  } as ConfigInput;
}
