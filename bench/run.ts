/**
 * `npm run bench [-- --quick] [-- --only parse,rules]`: runs every suite in
 * `bench/suites/`, side by side with its peers, and writes the results.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchContext, Measurement, Suite } from './lib/harness.js';
import { runInfo, writeResults } from './lib/report.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1]! : args[args.indexOf(onlyArg) + 1]!).split(',') : undefined;

const ctx: BenchContext = { quick, rows: quick ? 200_000 : 1_000_000 };
const dir = join(import.meta.dirname, 'suites');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
const results: Measurement[] = [];
for (const f of files) {
  const suite = (await import(pathToFileURL(join(dir, f)).href)).default as Suite;
  if (only && !only.includes(suite.name)) continue;
  process.stderr.write(`\n# ${suite.name}\n`);
  results.push(...(await suite.run(ctx)));
}
const { json, md } = writeResults(import.meta.dirname, runInfo(quick), results);
process.stderr.write(`\nwrote ${json}\nwrote ${md}\n`);
