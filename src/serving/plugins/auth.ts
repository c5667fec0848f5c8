/**
 * Optional bearer-token auth (`serving.auth.tokens`, env `PULSE_API_TOKENS`).
 * With no tokens configured every route is open. Routes marked
 * `config: { public: true }` (the health probes) are always open.
 *
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`, against
 * every configured token without stopping early, so the time taken says
 * nothing about how much of a guess was right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export interface AuthOptions {
  tokens: readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without a token (health probes). */
    public?: boolean;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** True when `presented` equals one of the digests; constant time in the token's content. */
export function tokenMatches(presented: string, digests: readonly Buffer[]): boolean {
  const candidate = digest(presented);
  let match = false;
  for (const d of digests) match = timingSafeEqual(candidate, d) || match;
  return match;
}

function deny(reply: FastifyReply, error: 'invalid_request' | 'invalid_token', message: string): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', `Bearer realm="pulse", error="${error}"`)
    .send({ statusCode: 401, error: 'Unauthorized', message });
}

export const authPlugin = fp<AuthOptions>(
  async (app, options) => {
    const digests = options.tokens.map(digest);
    if (digests.length === 0) return;
    // Synchronous (no promise per request); a denied request is answered here and `done` is not called.
    app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (request.routeOptions.config?.public === true) return done();
      const header = request.headers.authorization;
      if (header === undefined || header === '') return void deny(reply, 'invalid_request', 'missing bearer token: send Authorization: Bearer <token>');
      const match = /^Bearer +([\x21-\x7e]{1,1024})$/i.exec(header);
      if (match === null) return void deny(reply, 'invalid_request', 'malformed Authorization header: use Authorization: Bearer <token>');
      if (!tokenMatches(match[1] as string, digests)) return void deny(reply, 'invalid_token', 'invalid bearer token');
      done();
    });
  },
  { name: 'pulse-auth', fastify: '5.x' },
);
