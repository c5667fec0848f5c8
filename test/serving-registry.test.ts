/**
 * The view registry against what a view store can hold besides good
 * versions: snapshots that do not decode, malformed checkpoints, a manifest
 * older than a checkpoint's boundary, and a store that cannot be reached.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildServer, type PulseServer } from '../src/serving/index.js';
import { openStore, type ObjectStore } from '../src/storage/index.js';
import { HOUR, MINUTE, publishBatch, publishCheckpoint, seededReadings, testConfig } from './serving-fixtures.js';
import { uniqueName } from './support/services.js';

const START = Date.UTC(2026, 2, 1, 0);
const T = START + HOUR;
const config = testConfig();
const events = seededReadings(500, START, 2 * HOUR, 4, 2, 3);

let dir: string;
let store: ObjectStore;
let app: PulseServer | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pulse-serving-registry-'));
  store = openStore(dir);
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(s: ObjectStore = store): Promise<PulseServer> {
  app = await buildServer({ config, store: s, lag: null, pollIntervalMs: 60_000 });
  await app.ready();
  return app;
}

async function viewStatus(server: PulseServer, name: string): Promise<Record<string, unknown>> {
  const { views } = (await server.inject('/v1/views')).json() as { views: Record<string, unknown>[] };
  return views.find((v) => v.name === name) as Record<string, unknown>;
}

describe('view registry', () => {
  it('keeps a view with an undecodable snapshot out of service and says why, until a good version arrives', async () => {
    await publishBatch(store, config, events, T, 'v1');
    await store.put('views/by_device_1m/batch/v1/state.arrow', Buffer.from('not an arrow stream'));
    const server = await start();
    expect(await viewStatus(server, 'by_device_1m')).toMatchObject({ status: 'error', problem: expect.stringContaining('views/by_device_1m/batch/v1/state.arrow') });
    expect(await viewStatus(server, 'total_1m')).toMatchObject({ status: 'serving', batchVersion: 'v1' });
    const res = await server.inject('/v1/views/by_device_1m');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ message: expect.stringContaining('could not be loaded') });
    expect((await server.inject('/readyz')).statusCode).toBe(200);

    await publishBatch(store, config, events, T, 'v2');
    await server.pulseRegistry.refresh();
    expect(await viewStatus(server, 'by_device_1m')).toMatchObject({ status: 'serving', batchVersion: 'v2' });
    expect((await server.inject('/v1/views/by_device_1m')).statusCode).toBe(200);
  });

  it('ignores a malformed checkpoint and serves the other partitions', async () => {
    await publishBatch(store, config, events, T, 'v1');
    await publishCheckpoint(store, config, { topic: 'events', partition: 0, seq: 1, applied: T, events });
    await store.put('realtime/events-1/checkpoint.json', Buffer.from('{"topic": "events", "partition": "one"'));
    await store.put('realtime/events-2/checkpoint.json', Buffer.from(JSON.stringify({ topic: 'events', partition: 2 })));
    const server = await start();
    expect(await viewStatus(server, 'total_1m')).toMatchObject({ status: 'serving', realtimePartitions: 1 });
  });

  it('keeps the previous version while the manifest read is older than a checkpoint’s boundary', async () => {
    await publishBatch(store, config, events, T, 'v1');
    await publishCheckpoint(store, config, { topic: 'events', partition: 0, seq: 1, applied: T, events });
    const server = await start();
    const before = server.pulseRegistry.current('total_1m');
    expect(before?.boundary).toBe(T);

    // The speed layer applied T + 30m, but the manifest naming it is not visible yet.
    await publishCheckpoint(store, config, { topic: 'events', partition: 0, seq: 2, applied: T + 30 * MINUTE, events });
    await server.pulseRegistry.refresh();
    expect(server.pulseRegistry.current('total_1m')).toBe(before);

    await publishBatch(store, config, events, T + 30 * MINUTE, 'v2');
    await server.pulseRegistry.refresh();
    const after = server.pulseRegistry.current('total_1m');
    expect(after?.boundary).toBe(T + 30 * MINUTE);
    expect(after?.generation).toBeGreaterThan(before?.generation ?? 0);
  });

  it('swaps only when a source changed', async () => {
    await publishBatch(store, config, events, T, 'v1');
    const server = await start();
    const first = server.pulseRegistry.current('total_1m');
    await server.pulseRegistry.refresh();
    expect(server.pulseRegistry.current('total_1m')).toBe(first);
    await publishCheckpoint(store, config, { topic: 'events', partition: 0, seq: 1, applied: T, events });
    await server.pulseRegistry.refresh();
    expect(server.pulseRegistry.current('total_1m')).not.toBe(first);
  });

  it('is not ready while the store cannot be read', async () => {
    const missing = openStore(`s3://${uniqueName('no-such-bucket')}/store`);
    const server = await start(missing);
    const res = await server.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unavailable', problem: expect.stringContaining('cannot read realtime checkpoints') });
    expect((await server.inject('/healthz')).statusCode).toBe(200);
    expect((await server.inject('/v1/views/total_1m')).statusCode).toBe(503);
  });
});
