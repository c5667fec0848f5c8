/**
 * Window update throughput: 1M sensor readings (1k device keys) into a
 * tumbling 1-minute view with count, sum, avg, max, distinct and quantile,
 * native core vs the TypeScript reference aggregator. The Arrow input is
 * built once, before any measurement, with apache-arrow.
 */
import { benchSchema, readings } from '../lib/data.js';
import { measure, type BenchContext, type Measurement, type Suite } from '../lib/harness.js';
import { tableToBuffer } from '../../src/core/arrow.js';
import { ViewState, viewInputTable, type ViewSpec } from '../../src/core/window.js';
import { ReferenceView, type Row } from '../../test/reference/aggregate.js';

const view: ViewSpec = {
  name: 'device_1m',
  window: { type: 'tumbling', sizeMs: 60_000 },
  groupBy: ['device'],
  measures: [
    { name: 'n', op: 'count' },
    { name: 'battery_total', op: 'sum', field: 'battery' },
    { name: 'temp_mean', op: 'avg', field: 'temperature' },
    { name: 'temp_max', op: 'max', field: 'temperature' },
    { name: 'users', op: 'distinct', field: 'user' },
    { name: 'temp_p95', op: 'quantile', field: 'temperature', q: 0.95 },
  ],
};

const suite: Suite = {
  name: 'window',
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const records = [...readings(ctx.rows)] as unknown as Row[];
    const ipc = tableToBuffer(viewInputTable(benchSchema, records));
    // Each run frees its state inside the measurement: V8 does not see the
    // native memory, so leaving states to the garbage collector would pile
    // up gigabytes across samples.
    return await measure(ctx, 'window', 'tumbling 1m, 6 measures', { rows: ctx.rows, bytes: ipc.byteLength }, [
      {
        name: 'pulse native update',
        note: 'Arrow IPC in (zero-copy), state freed in the run',
        fn: () => {
          const s = ViewState.create(benchSchema, view);
          s.update(ipc);
          s.evictThrough(Number.MAX_SAFE_INTEGER);
        },
      },
      {
        name: 'pulse native update+query',
        note: 'plus finalising every window',
        fn: () => {
          const s = ViewState.create(benchSchema, view);
          s.update(ipc);
          s.query();
          s.evictThrough(Number.MAX_SAFE_INTEGER);
        },
      },
      {
        name: 'TypeScript reference',
        note: 'exact aggregates from JS objects (update + query)',
        fn: () => {
          const r = new ReferenceView(benchSchema, view);
          r.update(records);
          r.query();
        },
      },
    ]);
  },
};

export default suite;
