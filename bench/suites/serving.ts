/**
 * Serving layer under load, measured with autocannon on loopback: requests/s
 * and latency of a one-day, one-key, 1-minute query merged across the
 * batch/realtime boundary, beside a bare Fastify route sending the same
 * bytes (the HTTP ceiling), in the same run and without pipelining.
 *
 * Each server runs in its own process pinned to one core (taskset), the
 * load generator on the other. The same file is the server process's entry
 * point (run with `--serve`).
 */
import autocannon, { type Result } from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config/index.js';
import { openStore } from '../../src/storage/index.js';
import { publishBatch, publishCheckpoint, testConfig, DAY, MINUTE, type Reading } from '../../test/serving-fixtures.js';
import type { BenchContext, Measurement, Suite } from '../lib/harness.js';
import { readings } from '../lib/data.js';

const SUITE = 'serving';
const VIEW = 'by_device_1m';
const PARTITIONS = 2;
const SELF = fileURLToPath(import.meta.url);

/** The config the bench serves: the test views, with room for a day of 1-minute rows. */
function benchConfig(): Config {
  return testConfig({ serving: { maxRows: 10_000, maxRange: '7d' } });
}

// ---------------------------------------------------------------- server process

async function serve(mode: string, storeDir: string, bodyFile: string): Promise<void> {
  let port: number;
  let close: () => Promise<void>;
  if (mode === 'bare') {
    const { default: Fastify } = await import('fastify');
    // The answer's bytes, sent as the serving route sends them (one Buffer).
    const body = await readFile(bodyFile);
    const app = Fastify({ logger: false });
    app.get('/bare', async (_req, reply) => reply.type('application/json; charset=utf-8').send(body));
    app.get('/tiny', async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
    close = () => app.close();
  } else {
    const { buildServer } = await import('../../src/serving/index.js');
    const app = await buildServer({ config: benchConfig(), store: openStore(storeDir), lag: null, pollIntervalMs: 60_000 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
    close = () => app.close();
  }
  process.once('SIGTERM', () => {
    void close().then(() => process.exit(0));
  });
  process.stdout.write(`LISTENING ${port}\n`);
}

if (process.argv[1] === SELF && process.argv[2] === '--serve') {
  await serve(process.argv[3] as string, process.argv[4] as string, process.argv[5] as string);
}

// ---------------------------------------------------------------- load generator

interface Running {
  child: ChildProcess;
  base: string;
}

/** Starts a server process pinned to core 0 and waits for its port. */
function startServer(mode: 'pulse' | 'bare', storeDir: string, bodyFile: string): Promise<Running> {
  const profile = process.env.PULSE_BENCH_PROFILE ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.PULSE_BENCH_PROFILE}`] : [];
  const args = ['-c', '0', process.execPath, ...profile, '--import', 'tsx', SELF, '--serve', mode, storeDir, bodyFile];
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${mode} server did not start within 60 s`)), 60_000);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${m[1]}` });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${mode} server exited with ${code}`));
    });
  });
}

async function stopServer(s: Running): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

/** A load run: autocannon's result and the exact latency percentiles (autocannon's histogram rounds to whole ms). */
interface Load {
  result: Result;
  p50: number;
  p99: number;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
}

function load(options: autocannon.Options): Promise<Load> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon({ connections: 10, pipelining: 1, ...options }, (err, result) => {
      if (err) return reject(err);
      const sorted = Float64Array.from(latencies).sort();
      resolve({ result, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) });
    });
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms));
  });
}

function measurement(caseName: string, subject: string, baseline: string, l: Load, rowsPerAnswer: number, extra = ''): Measurement {
  const r = l.result;
  const rps = r.requests.average;
  const note = `${Math.round(rps)} req/s, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}${extra}`;
  process.stderr.write(`  ${caseName.padEnd(34)} ${subject.padEnd(30)} ${note}\n`);
  return {
    suite: SUITE,
    case: caseName,
    subject,
    baseline,
    medianMs: 1000 / rps,
    metrics: { reqPerSec: rps, p50Ms: l.p50, p99Ms: l.p99 },
    samples: Math.round(r.duration),
    rme: (r.requests.stddev / Math.max(1, rps)) * 100,
    rows: rowsPerAnswer,
    rowsPerSec: rowsPerAnswer * rps,
    note,
  };
}

/** Pins this process (the load generator) to core 1, away from the server. */
function pinSelf(): void {
  spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
}

async function buildStore(dir: string, rows: number): Promise<{ T: number; newest: number; devices: string[] }> {
  const config = benchConfig();
  const events: Reading[] = [];
  for (const r of readings(rows)) events.push({ ts: r.ts, device: r.device, site: r.site, temperature: r.temperature, battery: r.battery, user: r.user });
  const first = events[0]?.ts ?? 0;
  const newest = events.at(-1)?.ts ?? 0;
  // The nightly batch covers all but the last fifth of the data; the speed layer has the rest.
  const T = Math.floor((first + (newest - first) * 0.8) / MINUTE) * MINUTE;
  const store = openStore(dir);
  await publishBatch(store, config, events, T, 'bench');
  for (let p = 0; p < PARTITIONS; p++) {
    await publishCheckpoint(store, config, { topic: 'events', partition: p, seq: 1, applied: T, events: events.filter((e, i) => e.ts >= T && i % PARTITIONS === p) });
  }
  return { T, newest, devices: [...new Set(events.slice(0, 5000).map((e) => e.device))] };
}

const suite: Suite = {
  name: SUITE,
  async run(ctx: BenchContext): Promise<Measurement[]> {
    pinSelf();
    const duration = ctx.quick ? 3 : 15;
    const dir = await mkdtemp(join(tmpdir(), 'pulse-bench-serving-'));
    const bodyFile = join(dir, 'answer.json');
    const results: Measurement[] = [];
    try {
      const { newest, devices } = await buildStore(join(dir, 'store'), ctx.rows);
      const to = Math.floor(newest / MINUTE) * MINUTE + MINUTE;
      const from = to - DAY;
      const path = (device: string, shiftMinutes = 0) =>
        `/v1/views/${VIEW}?device=${device}&from=${new Date(from - shiftMinutes * MINUTE).toISOString()}&to=${new Date(to - shiftMinutes * MINUTE).toISOString()}`;
      const hot = path(devices[0] as string);

      const pulse = await startServer('pulse', join(dir, 'store'), bodyFile);
      let bare: Running | undefined;
      try {
        const res = await fetch(pulse.base + hot);
        const text = await res.text();
        if (res.status !== 200) throw new Error(`query failed: ${res.status} ${text}`);
        const answerRows = (JSON.parse(text) as { rows: unknown[] }).rows.length;
        await writeFile(bodyFile, text);
        process.stderr.write(`  one-day one-key query: ${answerRows} rows, ${text.length} bytes\n`);
        bare = await startServer('bare', join(dir, 'store'), bodyFile);
        const bareUrl = `${bare.base}/bare`;
        await load({ url: pulse.base + hot, duration: 2 }); // warm-up
        await load({ url: bareUrl, duration: 2 });

        // The machine is shared: the two servers take turns, twice, and the better round of each counts.
        const rounds = { pulse: [] as Load[], bare: [] as Load[] };
        for (let round = 0; round < 2; round++) {
          rounds.bare.push(await load({ url: bareUrl, duration }));
          rounds.pulse.push(await load({ url: pulse.base + hot, duration }));
        }
        const best = (ls: Load[]) => ls.reduce((a, b) => (b.result.requests.average > a.result.requests.average ? b : a));
        const repeated = best(rounds.pulse);
        const same = best(rounds.bare);
        const distinct = await load({
          url: pulse.base,
          duration,
          requests: [
            {
              setupRequest: (req) => {
                const device = devices[Math.floor(Math.random() * devices.length)] as string;
                return { ...req, path: path(device, Math.floor(Math.random() * 600)) };
              },
            },
          ],
        });
        // Latency at half of the measured rate, and the bare route at the same rate for the machine's own tail.
        const half = Math.max(1, Math.round(repeated.result.requests.average / 2));
        const halfLoad = await load({ url: pulse.base + hot, duration, overallRate: half });
        const bareHalf = await load({ url: bareUrl, duration, overallRate: half });
        // And at half of the bare route's rate, the other reading of "50 % load".
        const halfOfBare = Math.max(1, Math.round(same.result.requests.average / 2));
        const halfBareLoad = await load({ url: pulse.base + hot, duration, overallRate: halfOfBare });
        const tiny = await load({ url: `${bare.base}/tiny`, duration });

        const caseName = 'day × key × 1m (JSON)';
        const ratio = repeated.result.requests.average / same.result.requests.average;
        results.push(measurement(caseName, 'bare Fastify, same bytes', 'bare Fastify, same bytes', same, answerRows, ' (best of 2)'));
        results.push(measurement(caseName, 'pulse, repeated query', 'bare Fastify, same bytes', repeated, answerRows, ` (best of 2; ${ratio.toFixed(2)}× bare)`));
        results.push(measurement(caseName, 'pulse, distinct queries', 'bare Fastify, same bytes', distinct, answerRows, ' (answer cache misses)'));
        const halfCase = `at 50% load (${half} req/s)`;
        results.push(measurement(halfCase, 'pulse, repeated query', 'pulse, repeated query', halfLoad, answerRows, `, p99/p50 ${(halfLoad.p99 / halfLoad.p50).toFixed(2)}`));
        results.push(measurement(halfCase, 'bare Fastify, same bytes', 'pulse, repeated query', bareHalf, answerRows, `, p99/p50 ${(bareHalf.p99 / bareHalf.p50).toFixed(2)}`));
        results.push(
          measurement(`at 50% of the bare route's load (${halfOfBare} req/s)`, 'pulse, repeated query', 'pulse, repeated query', halfBareLoad, answerRows, `, p99/p50 ${(halfBareLoad.p99 / halfBareLoad.p50).toFixed(2)}`),
        );
        results.push(measurement('bare Fastify, {"ok":true}', 'bare Fastify, tiny body', 'bare Fastify, tiny body', tiny, 0));
      } finally {
        await stopServer(pulse);
        if (bare) await stopServer(bare);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return results;
  },
};

export default suite;
