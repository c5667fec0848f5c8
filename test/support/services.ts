/**
 * Endpoints of the real Kafka broker and S3 server that the global setup
 * (test/setup/services.ts) started or found, plus unique names so suites
 * running in parallel never share a bucket or a topic.
 */
import { randomBytes } from 'node:crypto';

const HOW_TO_START = 'run the tests through vitest (its global setup starts the servers) or start them with: bash scripts/services.sh start';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: ${HOW_TO_START}`);
  return value;
}

export interface S3TestEndpoint {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** The S3 server's endpoint and credentials. */
export function s3Endpoint(): S3TestEndpoint {
  return {
    endpoint: required('S3_ENDPOINT'),
    region: required('AWS_REGION'),
    credentials: { accessKeyId: required('AWS_ACCESS_KEY_ID'), secretAccessKey: required('AWS_SECRET_ACCESS_KEY') },
  };
}

/** The Kafka bootstrap servers. */
export function kafkaBrokers(): string[] {
  return required('KAFKA_BROKERS').split(',');
}

/**
 * A fresh name for a bucket or topic: lowercase letters, digits and dashes,
 * at most 63 characters, so it is valid as both.
 */
export function uniqueName(prefix: string): string {
  const stem = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${stem || 'test'}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
