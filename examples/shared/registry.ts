/**
 * The examples' generators by name. Imported statically, so the compiler
 * checks that every `generator.ts` exports what `ExampleGenerator` asks for.
 */
import * as iot from '../iot/generator.js';
import * as payments from '../payments/generator.js';
import * as social from '../social/generator.js';
import * as trading from '../trading/generator.js';
import type { ExampleGenerator, ExampleName } from './generator.js';

const GENERATORS: Record<ExampleName, ExampleGenerator> = { iot, trading, payments, social };

export function generatorOf(name: ExampleName): ExampleGenerator {
  return GENERATORS[name];
}
