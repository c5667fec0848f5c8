/**
 * Storage failures name the store and the key, and keep the underlying error
 * as `cause`, so a log line says what failed where without a stack dive.
 */
export class StorageError extends Error {
  override name = 'StorageError';

  constructor(
    /** The store's URL (`file:///…` or `s3://…`). */
    readonly url: string,
    /** The key (or prefix) the operation was about. */
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${url}: ${message}`, options);
  }
}

/** The key does not name an object. The one failure callers branch on. */
export class NotFoundError extends StorageError {
  override name = 'NotFoundError';

  constructor(url: string, key: string, options?: { cause?: unknown }) {
    super(url, key, `no object at key '${key}'`, options);
  }
}

/** A key the store refuses: empty, or one that would escape its root. */
export class InvalidKeyError extends StorageError {
  override name = 'InvalidKeyError';

  constructor(url: string, key: string, reason: string) {
    super(url, key, `invalid key '${key}': ${reason}`);
  }
}

/** Short text for a cause of unknown type, for error messages. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message || cause.name;
  return String(cause);
}
