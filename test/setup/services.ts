/**
 * Vitest global setup: makes sure the real Kafka broker and S3 server the
 * integration suites talk to are running (see scripts/services.sh), hands
 * their endpoints to the test workers through environment variables, and on
 * teardown stops what this run started.
 *
 * Servers are leased, not just started: `services.sh acquire` starts a
 * server only when none answers on its port and records this process as a
 * user; `release` on teardown stops it only when a test run started it and
 * no other run (from this checkout or another one) still uses it. A server
 * started by hand is never stopped here.
 *
 * A server that cannot be started fails the run with the command to start it
 * by hand; nothing is skipped.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = 'scripts/services.sh';
/** A first start fetches ~150 MB from Maven Central; bounded all the same. */
const START_TIMEOUT_MS = 10 * 60_000;
const STOP_TIMEOUT_MS = 60_000;

type Service = 'kafka' | 's3';

const kafkaPort = Number(process.env.PULSE_KAFKA_PORT ?? 19092);
const s3Port = Number(process.env.PULSE_S3_PORT ?? 19000);

/** The endpoints the suites read (see test/support/services.ts). */
const endpoints: Record<string, string> = {
  KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
  S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
  AWS_ACCESS_KEY_ID: process.env.PULSE_S3_IDENTITY ?? 'pulse',
  AWS_SECRET_ACCESS_KEY: process.env.PULSE_S3_CREDENTIAL ?? 'pulse-secret',
  AWS_REGION: 'us-east-1',
  // The SDK warns on every run under Node 20; the warning is not the tests' business.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** Runs `scripts/services.sh ACTION SERVICE PID`, echoing its progress lines. */
function runScript(action: 'acquire' | 'release', service: Service, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, action, service, String(process.pid)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const tail: string[] = [];
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      process.stderr.write(text);
      tail.push(...text.split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 20));
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${SCRIPT} ${action} ${service} ${signal ? `was stopped (${signal})` : `exited ${code}`}:\n${tail.join('\n')}`));
    });
  });
}

export default async function setup(): Promise<() => Promise<void>> {
  const services: Service[] = ['kafka', 's3'];
  const results = await Promise.allSettled(services.map((service) => runScript('acquire', service, START_TIMEOUT_MS)));
  const acquired = services.filter((_, i) => results[i]?.status === 'fulfilled');
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length > 0) {
    await Promise.allSettled(acquired.map((service) => runScript('release', service, STOP_TIMEOUT_MS)));
    throw new Error(
      `The integration tests need a real Kafka broker and S3 server, and starting them failed:\n` +
        `${failures.map((e) => e.message).join('\n')}\n\n` +
        `Start them by hand with:  bash scripts/services.sh start\n` +
        `(needs Java 17+ and Maven; the first start downloads them from Maven Central). ` +
        `Logs: .cache/services/kafka/port-${kafkaPort}/kafka.log, .cache/services/s3/port-${s3Port}/s3proxy.log`,
    );
  }

  Object.assign(process.env, endpoints);

  return async () => {
    // Release in parallel, and report every failure rather than the first.
    const releases = await Promise.allSettled(acquired.map((service) => runScript('release', service, STOP_TIMEOUT_MS)));
    const failed = releases.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    if (failed.length > 0) throw new Error(`releasing the test services failed:\n${failed.join('\n')}`);
  };
}
