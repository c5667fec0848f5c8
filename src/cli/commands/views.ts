/** `pulse views list|show NAME`: the published batch views. */
import type { Command } from 'commander';
import { listVersions, readManifest, type BatchManifest } from '../../batch/manifest.js';
import { storeOptionsFrom } from '../../batch/from-config.js';
import { openStore } from '../../storage/index.js';
import { loadCliConfig, type CliContext } from '../context.js';
import { CliError } from '../exit.js';

function cell(value: string | number | undefined, width: number): string {
  return String(value ?? '').padEnd(width);
}

export function formatViews(rows: { name: string; manifest?: BatchManifest }[]): string {
  const header = `${cell('VIEW', 28)}${cell('VERSION', 31)}${cell('COVERAGE END', 26)}${cell('INPUTS', 8)}${cell('RECORDS', 12)}${cell('REJECTED', 10)}SNAPSHOT BYTES`;
  const lines = rows.map(({ name, manifest: m }) =>
    m
      ? `${cell(name, 28)}${cell(m.version, 31)}${cell(new Date(m.coverageEnd).toISOString(), 26)}${cell(m.inputs.length + (m.failedInputs.length ? `(+${m.failedInputs.length}✗)` : ''), 8)}${cell(m.counts.records, 12)}${cell(m.counts.rejected, 10)}${m.snapshotBytes}`
      : `${cell(name, 28)}not published yet`,
  );
  return [header, ...lines].join('\n');
}

export function registerViewsCommands(program: Command, ctx: CliContext): void {
  const views = program.command('views').description('published batch views: versions, coverage, inputs');

  views
    .command('list')
    .description("the config's views with their published batch version and coverage end")
    .option('--json', 'print the manifests as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const store = openStore(config.batch.viewStore, storeOptionsFrom(config));
      const rows: { name: string; manifest?: BatchManifest }[] = [];
      for (const v of config.views) {
        const manifest = await readManifest(store, v.name);
        rows.push(manifest ? { name: v.name, manifest } : { name: v.name });
      }
      if (flags.json) ctx.io.stdout(`${JSON.stringify(rows.map((r) => r.manifest ?? { view: r.name, published: false }), null, 2)}\n`);
      else ctx.io.stdout(`${formatViews(rows)}\n`);
    });

  views
    .command('show')
    .description("a view's batch manifest and the versions kept")
    .argument('<name>', 'view name')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      if (!config.views.some((v) => v.name === name)) {
        throw new CliError(`unknown view '${name}'; the config defines: ${config.views.map((v) => v.name).join(', ')}`);
      }
      const store = openStore(config.batch.viewStore, storeOptionsFrom(config));
      const manifest = await readManifest(store, name);
      const versions = await listVersions(store, name);
      ctx.io.stdout(`${JSON.stringify({ view: name, published: manifest ?? null, versions }, null, 2)}\n`);
    });
}
