/**
 * Loads the napi-rs addon built from `crates/pulse-node` into `native/`.
 * Every other module in `src/core/` reaches Rust through this one binding.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type * as BindingModule from '../../native/binding.cjs';

type Binding = typeof BindingModule;

/** The package root: `src/core` and `dist/core` both sit two levels below it. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function load(): Binding {
  const loader = join(packageRoot, 'native', 'binding.cjs');
  if (!existsSync(loader)) {
    throw new Error(
      `PulseStream native addon is not built (${loader} is missing). Run \`npm run build:native\` (needs Rust/cargo).`,
    );
  }
  const require = createRequire(import.meta.url);
  return require(loader) as Binding;
}

export const native: Binding = load();
