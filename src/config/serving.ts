/** `serving`: the HTTP layer that merges batch and realtime views. */
import { z } from 'zod';
import { duration } from './duration.js';

/** Tokens shorter than this are too easy to guess. */
export const MIN_TOKEN_LENGTH = 16;

export const serving = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').meta({ description: 'Interface to listen on (default loopback only).' }),
    port: z.number().int().min(0).max(65535).default(8080).meta({ description: 'TCP port; 0 picks a free one.' }),
    auth: z
      .strictObject({
        tokens: z
          .array(z.string().min(MIN_TOKEN_LENGTH, { error: `a token needs at least ${MIN_TOKEN_LENGTH} characters` }))
          .default([])
          .meta({ description: 'Bearer tokens accepted (env PULSE_API_TOKENS, comma-separated); none: no auth.' }),
      })
      .prefault({}),
    rateLimit: z
      .strictObject({
        max: z.number().int().positive().meta({ description: 'Requests per client per time window.' }),
        timeWindow: duration({ min: 1 }).prefault('1m'),
      })
      .optional()
      .meta({ description: 'Per-client rate limit; none when absent.' }),
    maxRows: z.number().int().positive().default(100_000).meta({ description: 'Most rows one query returns.' }),
    maxRange: duration({ min: 1, description: 'Longest from–to range one query may ask for (default 31d).' }).prefault('31d'),
    cors: z
      .union([z.boolean(), z.array(z.string().min(1)).min(1)])
      .default(false)
      .meta({ description: 'CORS: false (default), true (any origin) or a list of allowed origins.' }),
  })
  .meta({ description: 'The serving layer.' });

export type ServingInput = z.input<typeof serving>;
export type Serving = z.output<typeof serving>;
