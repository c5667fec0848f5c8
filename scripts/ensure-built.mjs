// Rebuilds the native addon and the TypeScript output when their sources are
// newer than what is built, so `npm test` works on a fresh clone or after edits.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir, exts) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}
function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

const addon = readdirSync('native').find((f) => f.endsWith('.node'));
const built = addon ? mtime(join('native', addon)) : 0;
const src = Math.max(newest('crates', ['.rs', '.toml']), mtime('Cargo.toml'), mtime('Cargo.lock'));
if (!addon || src > built) {
  console.log('== building native addon (release)');
  execSync('npm run build:native', { stdio: 'inherit' });
}
if (newest('src', ['.ts']) > newest('dist', ['.js'])) {
  console.log('== compiling TypeScript');
  execSync('npm run build:ts', { stdio: 'inherit' });
}
