/** `pulse runs list|show ID`: the batch runs recorded in the view store. */
import type { Command } from 'commander';
import type { AuditReport } from '../../batch/audit.js';
import { auditKey, eventsKey } from '../../batch/events.js';
import { RunLock } from '../../batch/lock.js';
import { storeOptionsFrom } from '../../batch/from-config.js';
import { NotFoundError, openStore, type ObjectStore } from '../../storage/index.js';
import { loadCliConfig, type CliContext } from '../context.js';
import { CliError } from '../exit.js';

interface RunRow {
  runId: string;
  audit?: AuditReport;
}

/** Run ids under `runs/`, newest first (ids sort by time). */
export async function listRunIds(store: ObjectStore): Promise<string[]> {
  const ids = new Set<string>();
  for await (const info of store.list('runs/')) {
    const id = info.key.split('/')[1];
    if (id) ids.add(id);
  }
  return [...ids].sort().reverse();
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  try {
    return JSON.parse((await store.getBytes(key)).toString('utf8')) as T;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

function cell(value: string | number | undefined, width: number): string {
  return String(value ?? '').padEnd(width);
}

export function formatRuns(rows: RunRow[]): string {
  const header = `${cell('RUN', 31)}${cell('STATUS', 9)}${cell('EXIT', 5)}${cell('STARTED', 25)}${cell('SECONDS', 9)}${cell('OBJECTS', 10)}${cell('RECORDS', 12)}${cell('REJECTED', 10)}PUBLISHED`;
  const lines = rows.map(({ runId, audit: a }) =>
    a
      ? `${cell(runId, 31)}${cell(a.status, 9)}${cell(a.exitCode, 5)}${cell(a.startedAt, 25)}${cell((a.durationMs / 1000).toFixed(1), 9)}${cell(`${a.totals.objectsDone}/${a.totals.objects}`, 10)}${cell(a.totals.records, 12)}${cell(a.totals.rejected, 10)}${a.published.map((p) => p.view).join(',')}`
      : `${cell(runId, 31)}${cell('unfinished', 9)}(no audit report: still running, a shard, or interrupted)`,
  );
  return [header, ...lines].join('\n');
}

export function registerRunsCommands(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('batch runs: their audit reports and event logs');

  runs
    .command('list')
    .description('recent batch runs, newest first, and who holds the run lock')
    .option('--limit <n>', 'how many runs', '20')
    .option('--json', 'print the audit reports as JSON')
    .action(async (flags: { limit: string; json?: boolean }, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const store = openStore(config.batch.viewStore, storeOptionsFrom(config));
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive integer, got '${flags.limit}'`);
      const ids = (await listRunIds(store)).slice(0, limit);
      const rows: RunRow[] = [];
      for (const runId of ids) {
        const audit = await readJson<AuditReport>(store, auditKey(runId));
        rows.push(audit ? { runId, audit } : { runId });
      }
      if (flags.json) {
        ctx.io.stdout(`${JSON.stringify(rows.map((r) => r.audit ?? { runId: r.runId, status: 'unfinished' }), null, 2)}\n`);
        return;
      }
      const lock = await RunLock.holder(store);
      ctx.io.stdout(`${rows.length ? formatRuns(rows) : `no batch runs in ${store.url}`}\n`);
      if (lock) ctx.io.stdout(`lock: held by run ${lock.runId} on ${lock.host} (pid ${lock.pid}) until ${lock.expiresAt}\n`);
    });

  runs
    .command('show')
    .description("a run's audit report (JSON), or its event log with --events")
    .argument('<id>', 'run id')
    .option('--events', 'print the JSONL event log instead')
    .action(async (id: string, flags: { events?: boolean }, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const store = openStore(config.batch.viewStore, storeOptionsFrom(config));
      const key = flags.events ? eventsKey(id) : auditKey(id);
      try {
        ctx.io.stdout((await store.getBytes(key)).toString('utf8'));
      } catch (err) {
        if (err instanceof NotFoundError) throw new CliError(`run ${id}: no ${flags.events ? 'event log' : 'audit report'} at ${store.url}/${key}`);
        throw err;
      }
    });
}
