/**
 * `/metrics` in the Prometheus text format (the process registry of
 * src/observability, so the other layers' metrics appear too when they run
 * in the same process), and request counts and latency per route pattern.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { metricsText } from '../../observability/metrics.js';
import { recordSwap, servingMetrics, updateAges } from '../metrics.js';
import type { ViewRegistry } from '../registry.js';

export interface MetricsOptions {
  registry: ViewRegistry;
  now: () => number;
}

/** Route label of requests no route matched, so scanners cannot inflate the label set. */
const UNMATCHED = 'unmatched';

const metricsRoutes: FastifyPluginAsync<MetricsOptions> = async (app, { registry, now }) => {
  const metrics = servingMetrics();
  for (const status of registry.list()) if (status.served) recordSwap(metrics, status.served, undefined);
  registry.onSwap((view, previous) => recordSwap(metrics, view, previous));

  // Label sets repeat (a few routes × methods × statuses), so each one's child metrics are looked up once.
  const requestCounters = new Map<string, ReturnType<typeof metrics.requests.labels>>();
  const latencies = new Map<string, ReturnType<typeof metrics.latency.labels>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    const key = `${request.method} ${route}`;
    const statusKey = `${key} ${reply.statusCode}`;
    let counter = requestCounters.get(statusKey);
    if (counter === undefined) {
      counter = metrics.requests.labels({ method: request.method, route, status: String(reply.statusCode) });
      requestCounters.set(statusKey, counter);
    }
    let latency = latencies.get(key);
    if (latency === undefined) {
      latency = metrics.latency.labels({ method: request.method, route });
      latencies.set(key, latency);
    }
    counter.inc();
    latency.observe(reply.elapsedTime / 1000);
    done();
  });

  app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    updateAges(metrics, registry, now());
    const { contentType, body } = await metricsText();
    return reply.type(contentType).send(body);
  });
};

export const metricsPlugin = fp(metricsRoutes, { name: 'pulse-metrics', fastify: '5.x' });
