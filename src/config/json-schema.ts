/**
 * The config's JSON Schema, generated from the zod schema (`pulse config
 * schema`); editors use it for completion and checking. It describes what a
 * file may hold (the input side); cross-field checks live only in zod.
 */
import { z } from 'zod';
import { configSchema } from './config.js';

export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** The JSON Schema as the text committed in docs/pulse.config.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
