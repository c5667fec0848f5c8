// Readiness probe for the test services: waits, within a deadline, until a
// real client request succeeds. Exits 0 when ready, 1 on timeout, 2 when the
// server process died while we waited, 3 when the Kafka client is missing.
//
//   node probe.mjs kafka <host:port> <pid|-> <timeoutSeconds>
//   node probe.mjs http  <url>       <pid|-> <timeoutSeconds>
/* global fetch, AbortSignal */
import { setTimeout as sleep } from 'node:timers/promises';

const [kind, target, pidArg, timeoutArg] = process.argv.slice(2);
if (!kind || !target || !pidArg || !timeoutArg) {
  console.error('usage: probe.mjs kafka|http <target> <pid|-> <timeoutSeconds>');
  process.exit(64);
}
const pid = pidArg === '-' ? undefined : Number(pidArg);
const deadline = Date.now() + Number(timeoutArg) * 1000;

function alive() {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kafka round trips: the cluster metadata names a broker, and a group
 * coordinator answers (the first lookup creates the consumer offsets topic,
 * so the first consumer group in a test does not wait for it).
 */
async function kafkaProbe() {
  let kafkajs;
  try {
    kafkajs = await import('kafkajs');
  } catch {
    process.exit(3);
  }
  const { Kafka, logLevel } = kafkajs.default ?? kafkajs;
  const kafka = new Kafka({
    clientId: 'pulse-probe',
    brokers: [target],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  });
  return async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) return false;
      await admin.describeGroups(['pulse-probe']);
      return true;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  };
}

/** One HTTP round trip answered with a 2xx status. */
function httpProbe() {
  return async () => {
    const res = await fetch(target, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  };
}

const probe = kind === 'kafka' ? await kafkaProbe() : httpProbe();
while (Date.now() < deadline) {
  if (!alive()) process.exit(2);
  try {
    if (await probe()) process.exit(0);
  } catch {
    // not ready yet
  }
  await sleep(250);
}
process.exit(1);
