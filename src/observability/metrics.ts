/**
 * Prometheus metrics (prom-client): one registry for the process, with the
 * default process metrics on, served by the serving layer at /metrics.
 * Helpers create each `pulse_` metric once, so a layer may ask for its
 * metrics wherever it needs them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The process-wide registry. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const METRIC_PREFIX = 'pulse_';

type Kind = 'counter' | 'gauge' | 'histogram';

interface Entry {
  kind: Kind;
  labelNames: readonly string[];
  metric: Counter<string> | Gauge<string> | Histogram<string>;
}

const created = new Map<string, Entry>();

/** `rows_total` → `pulse_rows_total`; a name that already has the prefix is kept. */
export function metricName(name: string): string {
  return name.startsWith(METRIC_PREFIX) ? name : `${METRIC_PREFIX}${name}`;
}

function getOrCreate<M extends Entry['metric']>(kind: Kind, name: string, labelNames: readonly string[], make: (fullName: string) => M): M {
  const fullName = metricName(name);
  const existing = created.get(fullName);
  if (existing) {
    if (existing.kind !== kind) throw new Error(`metric ${fullName} already exists as a ${existing.kind}, not a ${kind}`);
    if (existing.labelNames.join(',') !== labelNames.join(',')) {
      throw new Error(`metric ${fullName} already exists with labels [${existing.labelNames.join(', ')}], not [${labelNames.join(', ')}]`);
    }
    return existing.metric as M;
  }
  const metric = make(fullName);
  created.set(fullName, { kind, labelNames: [...labelNames], metric });
  return metric;
}

/** A counter `pulse_<name>`, created on first call and returned as is afterwards. */
export function counter<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return getOrCreate('counter', name, labelNames, (n) => new Counter<L>({ name: n, help, labelNames, registers: [registry] })) as Counter<L>;
}

/** A gauge `pulse_<name>`, created on first call and returned as is afterwards. */
export function gauge<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return getOrCreate('gauge', name, labelNames, (n) => new Gauge<L>({ name: n, help, labelNames, registers: [registry] })) as Gauge<L>;
}

/** A histogram `pulse_<name>` (buckets apply on first creation), returned as is afterwards. */
export function histogram<L extends string = string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): Histogram<L> {
  return getOrCreate('histogram', name, labelNames, (n) => new Histogram<L>({ name: n, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) })) as Histogram<L>;
}

/** The exposition text for GET /metrics and its content type. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
