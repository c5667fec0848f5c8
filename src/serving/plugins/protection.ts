/**
 * What keeps the serving layer standing under hostile or heavy traffic:
 * overload shedding (503 with Retry-After instead of collapse), helmet's
 * security headers, CORS only when configured, a per-client rate limit when
 * configured, and a cap on URL length (no route takes a body; Fastify's
 * `bodyLimit` and `maxParamLength` are set by the server factory).
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import fp from 'fastify-plugin';

/** Longest request target accepted (path and query string). */
export const MAX_URL_LENGTH = 4096;

export interface ProtectionOptions {
  /** `false`: no CORS headers (default); `true`: any origin; a list: those origins. */
  cors: boolean | readonly string[];
  /** Requests per client per window; no limit when absent. */
  rateLimit: { max: number; timeWindowMs: number } | undefined;
  /** Overload thresholds; by default load is shed when the event loop lags by more than a second. */
  pressure?: FastifyUnderPressureOptions;
}

/**
 * The security headers helmet sets for these options. They depend on the
 * options only, so helmet runs once here, not once per request (as the
 * per-request middleware of @fastify/helmet does).
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const collector = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, collector as unknown as ServerResponse, () => undefined);
  return headers;
}

export const protectionPlugin = fp<ProtectionOptions>(
  async (app, options) => {
    await app.register(underPressure, {
      // Event-loop delay, not utilisation: a server at full, healthy load is
      // busy all the time; one that lags by a second is falling behind.
      maxEventLoopDelay: 1000,
      retryAfter: 5,
      message: 'the server is overloaded; retry later',
      ...options.pressure,
    });

    const headers = securityHeaders({
      // The API serves JSON and Arrow; the /docs UI sets its own CSP on its files.
      contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'] } },
      crossOriginResourcePolicy: { policy: 'same-origin' },
    });
    // One synchronous hook for both: no promise per request.
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(headers);
      if (request.url.length > MAX_URL_LENGTH) {
        // Answered here; `done` is not called, so the request goes no further.
        reply.code(414).send({ statusCode: 414, error: 'URI Too Long', message: `the request target is longer than ${MAX_URL_LENGTH} characters` });
        return;
      }
      done();
    });

    if (options.cors !== false) {
      await app.register(cors, { origin: options.cors === true ? true : [...options.cors], methods: ['GET', 'HEAD'] });
    }

    if (options.rateLimit) {
      await app.register(rateLimit, {
        global: true,
        max: options.rateLimit.max,
        timeWindow: options.rateLimit.timeWindowMs,
        // Health probes come from orchestrators at their own pace.
        allowList: (request) => request.routeOptions.config?.public === true,
        errorResponseBuilder: (_request, context) => ({
          statusCode: 429,
          error: 'Too Many Requests',
          message: `rate limit exceeded (${context.max} requests per window); retry in ${context.after}`,
        }),
      });
    }
  },
  { name: 'pulse-protection', fastify: '5.x' },
);
