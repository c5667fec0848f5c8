/**
 * A second, private Kafka broker for the broker-restart suite, so the
 * shared test broker other suites use is never restarted. It is started by
 * `scripts/services.sh start kafka` on other ports (which fetches the jars
 * if needed and formats a fresh log directory); a restart stops the JVM and
 * runs the very same command line again, so the log directory and every
 * topic survive, as they would on a real broker restart.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from './wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class PrivateBroker {
  private pid: number;
  private readonly cmdline: string[];
  private readonly cwd: string;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {
    this.pid = Number(readFileSync(join(dir, 'kafka.pid'), 'utf8').trim());
    this.cmdline = readFileSync(`/proc/${this.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    this.cwd = ROOT;
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  /** Starts a broker on `port` (controller on `port + 1`) through the services script. */
  static start(port: number): PrivateBroker {
    const env = { ...process.env, PULSE_KAFKA_PORT: String(port), PULSE_KAFKA_CONTROLLER_PORT: String(port + 1) };
    const result = spawnSync('bash', ['scripts/services.sh', 'start', 'kafka'], { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
    if (result.status !== 0) throw new Error(`could not start a private Kafka broker on ${port}:\n${result.stderr}`);
    return new PrivateBroker(port, join(ROOT, '.cache', 'services', 'kafka', `port-${port}`));
  }

  /** Stops the JVM (SIGKILL: a crash; SIGTERM: a clean shutdown) and waits for it to exit. */
  async kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    process.kill(this.pid, signal);
    await waitFor(`broker pid ${this.pid} to exit`, 60_000, async () => (alive(this.pid) ? undefined : true), 100);
  }

  /** Runs the same broker again on its existing log directory and waits until it answers. */
  async restart(): Promise<void> {
    const out = openSync(join(this.dir, 'kafka.log'), 'a');
    const child = spawn(this.cmdline[0]!, this.cmdline.slice(1), { cwd: this.cwd, detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    child.unref();
    this.pid = child.pid!;
    const admin = new Kafka({ clientId: 'pulse-speed-test', brokers: this.brokers, logLevel: logLevel.NOTHING }).admin();
    await waitFor('the restarted broker to answer', 120_000, async () => {
      await admin.connect();
      await admin.describeCluster();
      await admin.disconnect();
      return true;
    }, 500);
    await sleep(500);
  }

  async stop(): Promise<void> {
    if (alive(this.pid)) await this.kill('SIGTERM').catch(() => this.kill('SIGKILL'));
  }
}
