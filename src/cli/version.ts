/** The versions `pulse --version` prints: the package and, when the addon is built, the native core. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: `src/cli` and `dist/cli` both sit two levels below it. */
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** The native core's version, or why it is not available (the CLI works without it for config commands). */
export async function nativeVersion(): Promise<string> {
  try {
    const { native } = await import('../core/native.js');
    return native.nativeVersion();
  } catch (e) {
    return `not available (${(e as Error).message.split('\n')[0] ?? ''})`;
  }
}

export async function versionText(): Promise<string> {
  return `pulse ${packageVersion()}\nnative core ${await nativeVersion()}`;
}
