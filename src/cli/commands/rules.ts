/**
 * `pulse rules check FILE`: the compliance report. Streams a data file
 * through the same native parser and compiled rule set the layers use and
 * reports counts per rule and the first rejects with their line numbers.
 * Exit 1 when any record was rejected (an error-severity rule failed or the
 * record did not parse), 0 when every record passed.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { Pipeline, type PipelineReject, type RuleCounter } from '../../core/pipeline.js';
import { toNativeSpecs } from '../../config/native.js';
import { loadCliConfig, type CliContext } from '../context.js';
import { CliError, ExitCode } from '../exit.js';

export interface RulesReport {
  file: string;
  records: number;
  passed: number;
  rejected: number;
  warned: number;
  rules: RuleCounter[];
  /** Rejects by kind: parser codes and `rule_failed`. */
  rejectsByKind: Record<string, number>;
  /** The first rejects, in file order. */
  firstRejects: PipelineReject[];
}

/** Streams `file` through the config's parser and rules (no views). */
export async function checkFile(pipeline: Pipeline, file: string, source: Readable, limit: number): Promise<RulesReport> {
  const report: RulesReport = { file, records: 0, passed: 0, rejected: 0, warned: 0, rules: [], rejectsByKind: {}, firstRejects: [] };
  const add = (r: Awaited<ReturnType<Pipeline['pushAsync']>>) => {
    report.records += r.records;
    report.passed += r.applied;
    report.warned += r.warned;
    report.rejected += r.parseRejects + r.ruleRejects;
    for (const x of r.rejects) {
      report.rejectsByKind[x.kind] = (report.rejectsByKind[x.kind] ?? 0) + 1;
      if (report.firstRejects.length < limit) report.firstRejects.push(x);
    }
  };
  for await (const chunk of source) add(await pipeline.pushAsync(chunk as Buffer));
  add(await pipeline.finishAsync());
  report.rules = pipeline.ruleCounters();
  return report;
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

export function formatReport(r: RulesReport): string {
  const lines = [
    `${r.file}: ${r.records} records, ${r.passed} passed, ${r.rejected} rejected, ${r.warned} kept with warnings`,
    '',
    `${pad('rule', 32)}${pad('severity', 10)}${pad('evaluated', 12)}${pad('failed', 10)}warned`,
    ...r.rules.map((c) => `${pad(c.id, 32)}${pad(c.severity, 10)}${pad(c.evaluated, 12)}${pad(c.failed, 10)}${c.warned}`),
  ];
  const kinds = Object.entries(r.rejectsByKind);
  if (kinds.length) lines.push('', 'rejects by kind: ' + kinds.map(([k, n]) => `${k} ${n}`).join(', '));
  if (r.firstRejects.length) {
    lines.push('', `first ${r.firstRejects.length} rejects:`);
    for (const x of r.firstRejects) {
      // A rule reject's reason names each failed rule with its message.
      lines.push(`  line ${x.line}: ${x.kind}: ${x.reason}`);
    }
  }
  return lines.join('\n');
}

export function registerRulesCommands(program: Command, ctx: CliContext): void {
  const rules = program.command('rules').description('validate data against the rule set');
  rules
    .command('check')
    .argument('<file>', 'data file (NDJSON or CSV, optionally .gz)')
    .description('parse and validate FILE with the config\'s schema and rules; report counts per rule and the first rejects (exit 0 all passed, 1 some rejected)')
    .option('--format <format>', 'ndjson or csv (default: from the file name, else the batch format)')
    .option('--limit <n>', 'how many rejects to list', '20')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: { format?: string; limit: string; json?: boolean }, command: Command) => {
      const { config } = await loadCliConfig(ctx, command);
      const specs = toNativeSpecs(config);
      const plain = file.replace(/\.gz$/, '');
      const format = options.format ?? (plain.endsWith('.csv') ? 'csv' : plain.endsWith('.ndjson') || plain.endsWith('.jsonl') ? 'ndjson' : config.batch.format);
      if (format !== 'ndjson' && format !== 'csv') throw new CliError(`--format must be ndjson or csv, not '${format}'`);
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 0) throw new CliError(`--limit must be a whole number, not '${options.limit}'`);
      const pipeline = Pipeline.create({ schema: specs.schema, parse: { ...specs.batchParse, format }, rules: specs.rules, views: [] });
      const stream = createReadStream(file, { highWaterMark: 1 << 20 });
      const opened = new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', (e) => reject(new CliError(`cannot read ${file}: ${e.message}`)));
      });
      await opened;
      const source = file.endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
      const report = await checkFile(pipeline, file, source, limit);
      ctx.io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
      ctx.exitCode = report.rejected > 0 ? ExitCode.Partial : ExitCode.Ok;
    });
}
