/**
 * Storage locations in a config: `s3://bucket/prefix/`, `file:///abs/dir/`,
 * or a plain path (relative paths are relative to the config file). The
 * object-storage layer picks its backend from the same forms.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** S3 bucket naming rules (3–63 lowercase letters, digits, dots, hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** Why `text` is not a usable location, or `undefined` when it is. */
export function locationProblem(text: string): string | undefined {
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return text.trim() === '' ? 'must not be empty' : undefined;
  if (scheme === 's3') {
    const bucket = text.slice('s3://'.length).split('/')[0] ?? '';
    if (!BUCKET.test(bucket)) return `invalid S3 bucket name '${bucket}' in '${text}'`;
    return undefined;
  }
  if (scheme === 'file') {
    try {
      fileURLToPath(text);
      return undefined;
    } catch (e) {
      return `invalid file URI '${text}': ${(e as Error).message}`;
    }
  }
  return `unsupported scheme '${scheme}://' in '${text}': use s3://bucket/prefix/, file:///path/ or a path`;
}

/** A zod schema for a storage location string. */
export function location(description: string) {
  return z
    .string()
    .superRefine((text, ctx) => {
      const problem = locationProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description });
}

/** True for plain paths (neither `s3://` nor `file://`). */
export function isPlainPath(text: string): boolean {
  return !SCHEME.test(text);
}

/** Appends a sub-folder to a location: `s3://b/store/` + `errors/` → `s3://b/store/errors/`. */
export function childLocation(base: string, child: string): string {
  return `${base.replace(/\/+$/, '')}/${child}`;
}

/** Makes a relative path absolute against `baseDir`, keeping a trailing slash; URIs are returned as they are. */
export function resolveLocation(text: string, baseDir: string): string {
  if (!isPlainPath(text) || isAbsolute(text)) return text;
  const abs = resolve(baseDir, text);
  return text.endsWith('/') ? `${abs}/` : abs;
}
