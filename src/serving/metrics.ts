/**
 * The serving layer's Prometheus metrics, in the process registry
 * (src/observability): request counts and latency per route, the versions
 * served per view, and how far behind the realtime views are.
 */
import { counter, gauge, histogram } from '../observability/metrics.js';
import type { ViewRegistry } from './registry.js';
import type { ServedView } from './served-view.js';

/** Latency buckets (seconds): sub-millisecond cache hits up to multi-second overload. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function servingMetrics() {
  return {
    requests: counter('http_requests_total', 'HTTP requests answered, by route pattern and status code.', ['method', 'route', 'status']),
    latency: histogram('http_request_duration_seconds', 'Time to answer an HTTP request, by route pattern.', ['method', 'route'], LATENCY_BUCKETS),
    generation: gauge('serving_view_generation', 'Version counter of the served view; increases with every swap.', ['view']),
    swaps: counter('serving_view_swaps_total', 'Times a new version of the view was swapped in.', ['view']),
    batchVersion: gauge('serving_batch_version_info', 'The batch view version served (value 1; the version is the label).', ['view', 'version']),
    batchCoverageEnd: gauge('serving_batch_coverage_end_seconds', 'Coverage end T of the served batch view, Unix seconds.', ['view']),
    realtimeWatermark: gauge('serving_realtime_watermark_seconds', 'Smallest realtime partition watermark served, Unix seconds.', ['view']),
    realtimePartitions: gauge('serving_realtime_partitions', 'Realtime partition snapshots merged into the served view.', ['view']),
    snapshotAge: gauge('serving_realtime_snapshot_age_seconds', 'Age of the newest realtime snapshot served, seconds.', ['view']),
  };
}

export type ServingMetrics = ReturnType<typeof servingMetrics>;

/** Records a swap. */
export function recordSwap(metrics: ServingMetrics, view: ServedView, previous: ServedView | undefined): void {
  const labels = { view: view.name };
  metrics.swaps.inc(labels);
  metrics.generation.set(labels, view.generation);
  const oldVersion = previous?.batch?.version;
  const newVersion = view.batch?.version;
  if (oldVersion !== undefined && oldVersion !== newVersion) metrics.batchVersion.remove({ view: view.name, version: oldVersion });
  if (newVersion !== undefined) metrics.batchVersion.set({ view: view.name, version: newVersion }, 1);
  if (view.boundary !== null) metrics.batchCoverageEnd.set(labels, view.boundary / 1000);
  if (view.realtimeWatermark !== null) metrics.realtimeWatermark.set(labels, view.realtimeWatermark / 1000);
  metrics.realtimePartitions.set(labels, view.realtime?.partitions.length ?? 0);
}

/** Brings the time-dependent gauges up to date; called just before a scrape. */
export function updateAges(metrics: ServingMetrics, registry: ViewRegistry, now: number): void {
  for (const status of registry.list()) {
    const at = status.served?.newestSnapshotAt;
    if (at !== undefined && at !== null) metrics.snapshotAge.set({ view: status.definition.name }, Math.max(0, now - at) / 1000);
  }
}
