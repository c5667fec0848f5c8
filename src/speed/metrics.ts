/**
 * Prometheus metrics of the speed layer (in the process registry of
 * src/observability): throughput, rejects by kind, late events, checkpoint
 * duration, freshness, consumer lag and the age of the newest published
 * snapshot. Created once per process, so several workers share them.
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import { counter, gauge, histogram } from '../observability/metrics.js';

export class SpeedMetrics {
  readonly events: Counter<'topic'> = counter('speed_events_total', 'Messages consumed by the speed layer', ['topic']);
  readonly applied: Counter<'topic'> = counter('speed_applied_total', 'Records applied to realtime views', ['topic']);
  readonly rejects: Counter<'topic' | 'kind'> = counter('speed_rejects_total', 'Records rejected, by kind (parser code, rule_failed, late, empty_message)', ['topic', 'kind']);
  readonly late: Counter<'topic'> = counter('speed_late_total', 'Events older than the watermark minus the allowed lateness', ['topic']);
  readonly microBatches: Counter<'topic'> = counter('speed_micro_batches_total', 'Micro-batches handed to the native pipeline', ['topic']);
  readonly checkpointSeconds: Histogram<'topic'> = histogram('speed_checkpoint_duration_seconds', 'Time to write one round of checkpoints', ['topic'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  readonly checkpointFailures: Counter<'topic'> = counter('speed_checkpoint_failures_total', 'Checkpoints not committed (retried at the next publish)', ['topic']);
  readonly freshness: Histogram<'topic'> = histogram('speed_freshness_seconds', "From a message's source timestamp to the checkpoint that publishes it", ['topic'], [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30]);
  readonly lag: Gauge<'topic' | 'partition'> = gauge('speed_consumer_lag', 'Messages between the processed offset and the partition end', ['topic', 'partition']);
  readonly snapshotAge: Gauge<'topic' | 'partition'> = gauge('speed_snapshot_age_seconds', 'Age of the newest committed realtime snapshot', ['topic', 'partition']);
  readonly pausedPartitions: Gauge<'topic'> = gauge('speed_paused_partitions', 'Partitions paused because the pipeline is behind', ['topic']);
}
