/**
 * OpenAPI for the HTTP API, generated from the routes' zod schemas: the
 * document at `/docs/json` (and `/docs/yaml`), a Swagger UI at `/docs`. Each
 * view has its own route, so the document lists every view's group filters.
 * Registered before the routes, which it collects as they are added.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

export interface DocsOptions {
  version: string;
  /** Whether the API asks for a bearer token. */
  auth: boolean;
}

export const docsPlugin = fp<DocsOptions>(
  async (app, options) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'PulseStream serving API',
          description:
            'Merged batch and realtime views. Each answer carries its freshness and marks every window complete or not. ' +
            'Send `Accept: application/vnd.apache.arrow.stream` for an Arrow IPC stream instead of JSON.',
          version: options.version,
        },
        tags: [
          { name: 'views', description: 'Windowed aggregates, merged at the batch/realtime boundary' },
          { name: 'health', description: 'Probes and metrics' },
        ],
        ...(options.auth
          ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }, security: [{ bearer: [] }] }
          : {}),
      },
      transform: jsonSchemaTransform,
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      uiConfig: { docExpansion: 'list', deepLinking: false },
    });
  },
  { name: 'pulse-docs', fastify: '5.x' },
);
