import { S3Client } from '@aws-sdk/client-s3';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSystemStore } from './fs-store.js';
import type { ObjectStore } from './object-store.js';
import { S3Store } from './s3-store.js';

/** When the SDK adds integrity checksums to requests and checks them on responses. */
export type ChecksumMode = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';

export interface OpenStoreOptions {
  /** Base directory for relative paths. Default: the process's working directory. */
  cwd?: string;
  /** Where `S3_ENDPOINT`, `AWS_*` are read from. Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** S3 endpoint for S3-compatible servers (`S3_ENDPOINT`); AWS when absent. */
  endpoint?: string;
  /** Region (`AWS_REGION`, `AWS_DEFAULT_REGION`). Default `us-east-1`. */
  region?: string;
  /**
   * Static credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
   * `AWS_SESSION_TOKEN`). Without them the SDK's default provider chain
   * (profiles, SSO, instance roles…) applies.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style URLs (`endpoint/bucket/key`). Default: on when an endpoint is set. */
  forcePathStyle?: boolean;
  /** Attempts per request, retries with the SDK's standard backoff. Default 3. */
  maxAttempts?: number;
  /** Keys per list page (S3 MaxKeys). Default 1000. */
  pageSize?: number;
  /** Multipart part size in bytes (≥ 5 MiB). Default 8 MiB. */
  partSize?: number;
  /** Concurrent part uploads per multipart upload. Default 4. */
  queueSize?: number;
  /**
   * The SDK's request checksum behaviour. The default, `WHEN_SUPPORTED`,
   * sends stream bodies as `aws-chunked` with a checksum trailer, which some
   * S3-compatible servers reject; `WHEN_REQUIRED` avoids that. S3Proxy 4
   * accepts both.
   */
  requestChecksumCalculation?: ChecksumMode;
  /** The SDK's response checksum validation. Default `WHEN_SUPPORTED`. */
  responseChecksumValidation?: ChecksumMode;
}

/**
 * Opens the store a URI names:
 * - `s3://bucket[/prefix]` → S3 (endpoint, region and credentials from the
 *   options, else from the environment);
 * - `file:///abs/path`, an absolute path or a relative one → a directory.
 */
export function openStore(uri: string, options: OpenStoreOptions = {}): ObjectStore {
  if (uri.startsWith('s3://')) return openS3(uri, options);
  if (uri.startsWith('file:')) return new FileSystemStore(fileURLToPath(uri));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw new Error(`unsupported storage URI '${uri}': use s3://bucket/prefix, file:///absolute/path or a local path`);
  }
  if (uri === '') throw new Error('empty storage URI');
  return new FileSystemStore(isAbsolute(uri) ? uri : resolve(options.cwd ?? process.cwd(), uri));
}

function openS3(uri: string, options: OpenStoreOptions): S3Store {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') throw new Error(`storage URI '${uri}' names no bucket`);

  const env = options.env ?? process.env;
  const endpoint = options.endpoint ?? (env.S3_ENDPOINT || undefined);
  const credentials = options.credentials ?? credentialsFrom(env);
  const client = new S3Client({
    region: options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1'),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    maxAttempts: options.maxAttempts ?? 3,
    retryMode: 'standard',
    requestChecksumCalculation: options.requestChecksumCalculation ?? 'WHEN_SUPPORTED',
    responseChecksumValidation: options.responseChecksumValidation ?? 'WHEN_SUPPORTED',
  });
  return new S3Store({
    client,
    bucket,
    prefix,
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    ...(options.partSize === undefined ? {} : { partSize: options.partSize }),
    ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }),
  });
}

function credentialsFrom(env: Record<string, string | undefined>): OpenStoreOptions['credentials'] {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}
