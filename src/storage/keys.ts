/**
 * Key rules shared by the backends. S3 accepts almost any key; a directory
 * tree cannot, so the filesystem backend refuses keys that would not map to
 * exactly one file inside its root.
 */

/** File names the filesystem backend reserves for its in-flight writes. */
export const TEMP_PREFIX = '.pulse-tmp-';

const MAX_SEGMENT_BYTES = 255;

/**
 * Why a key cannot name a file under the store's root, or `undefined` when it
 * can: no empty or absolute key, no `.`/`..` or empty segments, no trailing
 * slash (that would be a directory), no NUL, no backslash (a separator on
 * Windows), nothing that collides with in-flight temp files.
 */
export function fileKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'empty key';
  if (key.includes('\0')) return 'contains a NUL character';
  if (key.includes('\\')) return "contains '\\' (use '/' as the separator)";
  if (key.startsWith('/')) return 'absolute keys are not allowed';
  if (key.endsWith('/')) return "ends with '/' (names a directory, not an object)";
  for (const segment of key.split('/')) {
    if (segment === '') return "contains an empty segment ('//')";
    if (segment === '.' || segment === '..') return `contains a '${segment}' segment`;
    if (segment.startsWith(TEMP_PREFIX)) return `segment starts with the reserved '${TEMP_PREFIX}'`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

/** Compares keys in UTF-8 byte order, the order S3 lists keys in. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
