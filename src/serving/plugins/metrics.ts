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

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    const labels = { method: request.method, route };
    metrics.requests.inc({ ...labels, status: String(reply.statusCode) });
    metrics.latency.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    updateAges(metrics, registry, now());
    const { contentType, body } = await metricsText();
    return reply.type(contentType).send(body);
  });
};

export const metricsPlugin = fp(metricsRoutes, { name: 'pulse-metrics', fastify: '5.x' });
