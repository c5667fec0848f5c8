/**
 * Probes for orchestrators, open without a token: `/healthz` says the
 * process answers; `/readyz` says it has loaded the view store at least once
 * and its last poll reached the store, so it can answer queries.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ViewRegistry } from '../registry.js';

export interface HealthOptions {
  registry: ViewRegistry;
}

const health = z.object({ status: z.enum(['ok', 'unavailable']), problem: z.string().optional() });

export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, { registry }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    '/healthz',
    { config: { public: true }, schema: { tags: ['health'], summary: 'The process is up', response: { 200: health } } },
    async () => ({ status: 'ok' as const }),
  );
  routes.get(
    '/readyz',
    {
      config: { public: true },
      schema: { tags: ['health'], summary: 'Views are loaded and the view store is reachable', response: { 200: health, 503: health } },
    },
    async (_request, reply) => {
      const problem = registry.storeProblem ?? (registry.ready ? undefined : 'the view store has not been read yet');
      if (problem !== undefined) return reply.code(503).send({ status: 'unavailable' as const, problem });
      return { status: 'ok' as const };
    },
  );
};
