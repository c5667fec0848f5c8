/**
 * Vitest global setup: starts the real Kafka broker and S3 server the
 * integration suites talk to (see scripts/services.sh), and stops what it
 * started. Filled in with the scripts.
 */
export default async function setup(): Promise<() => Promise<void>> {
  return async () => {};
}
