/**
 * Prometheus metrics of the speed layer: throughput, rejects by kind, late
 * events, checkpoint duration, consumer lag and the age of the newest
 * published snapshot. Registered once per registry (by name), so several
 * workers in one process share them.
 */
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram, register as defaultRegistry } from 'prom-client';

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export class SpeedMetrics {
  readonly events: Counter<'topic'>;
  readonly applied: Counter<'topic'>;
  readonly rejects: Counter<'topic' | 'kind'>;
  readonly late: Counter<'topic'>;
  readonly microBatches: Counter<'topic'>;
  readonly checkpointSeconds: Histogram<'topic'>;
  readonly checkpointFailures: Counter<'topic'>;
  readonly freshness: Histogram<'topic'>;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly snapshotAge: Gauge<'topic' | 'partition'>;
  readonly pausedPartitions: Gauge<'topic'>;

  constructor(registry: Registry = defaultRegistry) {
    const registers = [registry];
    this.events = once(registry, 'pulse_speed_events_total', () => new Counter({ name: 'pulse_speed_events_total', help: 'Messages consumed by the speed layer', labelNames: ['topic'], registers }));
    this.applied = once(registry, 'pulse_speed_applied_total', () => new Counter({ name: 'pulse_speed_applied_total', help: 'Records applied to realtime views', labelNames: ['topic'], registers }));
    this.rejects = once(registry, 'pulse_speed_rejects_total', () => new Counter({ name: 'pulse_speed_rejects_total', help: 'Records rejected, by kind (parser code, rule_failed, late, empty_message)', labelNames: ['topic', 'kind'], registers }));
    this.late = once(registry, 'pulse_speed_late_total', () => new Counter({ name: 'pulse_speed_late_total', help: 'Events older than the watermark minus the allowed lateness', labelNames: ['topic'], registers }));
    this.microBatches = once(registry, 'pulse_speed_micro_batches_total', () => new Counter({ name: 'pulse_speed_micro_batches_total', help: 'Micro-batches handed to the native pipeline', labelNames: ['topic'], registers }));
    this.checkpointSeconds = once(registry, 'pulse_speed_checkpoint_duration_seconds', () => new Histogram({ name: 'pulse_speed_checkpoint_duration_seconds', help: 'Time to write one publish round of checkpoints', labelNames: ['topic'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers }));
    this.checkpointFailures = once(registry, 'pulse_speed_checkpoint_failures_total', () => new Counter({ name: 'pulse_speed_checkpoint_failures_total', help: 'Checkpoints not committed (retried at the next publish)', labelNames: ['topic'], registers }));
    this.freshness = once(registry, 'pulse_speed_freshness_seconds', () => new Histogram({ name: 'pulse_speed_freshness_seconds', help: 'From a message\'s source timestamp to the checkpoint that publishes it', labelNames: ['topic'], buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30], registers }));
    this.lag = once(registry, 'pulse_speed_consumer_lag', () => new Gauge({ name: 'pulse_speed_consumer_lag', help: 'Messages between the processed offset and the partition end', labelNames: ['topic', 'partition'], registers }));
    this.snapshotAge = once(registry, 'pulse_speed_snapshot_age_seconds', () => new Gauge({ name: 'pulse_speed_snapshot_age_seconds', help: 'Age of the newest committed realtime snapshot', labelNames: ['topic', 'partition'], registers }));
    this.pausedPartitions = once(registry, 'pulse_speed_paused_partitions', () => new Gauge({ name: 'pulse_speed_paused_partitions', help: 'Partitions paused because the pipeline is behind', labelNames: ['topic'], registers }));
  }
}
