/**
 * The workload `npm run profile` samples: the fused pipeline of the fused
 * suite (same spec, same 1M-row dataset, every window finalised) run back
 * to back, so the profile is dominated by the native hot path.
 */
import { Pipeline } from '../../src/core/pipeline.js';
import { dataset } from '../lib/data.js';
import { fusedSpec } from '../suites/fused.js';

const format = process.argv[2] === 'csv' ? 'csv' : 'ndjson';
const runs = Number(process.argv[3] ?? 8);
const bytes = dataset(format, 1_000_000);
const t0 = performance.now();
for (let i = 0; i < runs; i++) {
  const p = Pipeline.create(fusedSpec(format));
  p.push(bytes);
  p.finish();
  p.query(p.viewNames()[0]!, {});
  p.close();
}
process.stderr.write(`${format}: ${((performance.now() - t0) / runs).toFixed(1)} ms per 1M rows (${runs} runs)\n`);
