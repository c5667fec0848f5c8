/**
 * `buildServer`: the serving layer as a Fastify instance, one plugin per
 * concern (protection, auth, metrics, health, docs, views). `pulse serve`,
 * `pulse up` and the tests all build it here; the caller decides whether to
 * `listen` or `inject`. The view registry starts polling the store when the
 * server becomes ready and stops when it closes.
 */
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { viewDefinitions } from './definition.js';
import { KafkaLagSource, type LagSource } from './lag.js';
import { authPlugin } from './plugins/auth.js';
import { docsPlugin } from './plugins/docs.js';
import { healthPlugin } from './plugins/health.js';
import { metricsPlugin } from './plugins/metrics.js';
import { protectionPlugin } from './plugins/protection.js';
import { viewsPlugin } from './plugins/views.js';
import { ViewRegistry, type ViewStoreReader } from './registry.js';

export interface ServerOptions {
  config: Config;
  /** The view store (`batch.viewStore`), opened by the caller. */
  store: ViewStoreReader;
  /** Where realtime checkpoints live (`speed.viewStore`) when it is not `store`. */
  realtimeStore?: ViewStoreReader;
  /** A registry built by the caller (it must read the same views); built from the config when absent. */
  registry?: ViewRegistry;
  /** Time between polls of the store (default 1000 ms). */
  pollIntervalMs?: number;
  /** Request and registry logs; none when absent. */
  logger?: Logger;
  /** Consumer lag source; default: the config's Kafka brokers when the stream is Kafka, else none. */
  lag?: LagSource | null;
  /** Overload thresholds for `@fastify/under-pressure`. */
  pressure?: FastifyUnderPressureOptions;
  /** The API version shown in the OpenAPI document. */
  version?: string;
  /** Clock (ms). */
  now?: () => number;
}

/** No route takes a body; anything larger than this is refused before it is read. */
const BODY_LIMIT = 16 * 1024;
/** Longest path parameter (view names are far shorter). */
const MAX_PARAM_LENGTH = 128;

export interface PulseServer extends FastifyInstance {
  /** The registry answering this server's queries. */
  pulseRegistry: ViewRegistry;
}

function defaultLag(config: Config): LagSource | null {
  const source = config.speed?.source;
  if (source?.type !== 'kafka') return null;
  return new KafkaLagSource({ brokers: source.brokers, clientId: source.clientId });
}

export async function buildServer(options: ServerOptions): Promise<PulseServer> {
  const { config } = options;
  const serving = config.serving;
  const now = options.now ?? Date.now;
  const registry =
    options.registry ??
    new ViewRegistry({
      store: options.store,
      ...(options.realtimeStore ? { realtimeStore: options.realtimeStore } : {}),
      definitions: viewDefinitions(config),
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      ...(options.logger ? { logger: options.logger.child({ component: 'view-registry' }) } : {}),
      now,
    });
  const lag = options.lag === undefined ? defaultLag(config) : options.lag;

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestTimeout: 30_000,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = error.validation.map((v) => ({
        path: v.instancePath.split('/').filter((p) => p !== ''),
        message: v.message ?? 'invalid',
        code: v.keyword,
      }));
      const summary = issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`).join('; ');
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: `invalid ${error.validationContext ?? 'request'}: ${summary}`, issues });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status] ?? 'Client Error', message: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    const shown = status >= 500 && status < 600 ? status : 500;
    return reply.code(shown).send({ statusCode: shown, error: shown === 503 ? 'Service Unavailable' : 'Internal Server Error', message: shown === 503 ? error.message : 'internal error' });
  });

  await app.register(protectionPlugin, {
    cors: serving.cors,
    rateLimit: serving.rateLimit ? { max: serving.rateLimit.max, timeWindowMs: serving.rateLimit.timeWindow } : undefined,
    ...(options.pressure ? { pressure: options.pressure } : {}),
  });
  await app.register(authPlugin, { tokens: serving.auth.tokens });
  await app.register(docsPlugin, { version: options.version ?? '0.1.0', auth: serving.auth.tokens.length > 0 });
  await app.register(metricsPlugin, { registry, now });
  await app.register(healthPlugin, { registry });
  await app.register(viewsPlugin, { registry, lag, now, limits: { maxRows: serving.maxRows, maxRangeMs: serving.maxRange } });

  app.decorate('pulseRegistry', registry);
  app.addHook('onReady', async () => {
    await registry.start();
  });
  app.addHook('onClose', async () => {
    registry.stop();
    await lag?.close();
  });
  return app as unknown as PulseServer;
}
