/**
 * The speed layer's pure parts: micro-batch joining and reject mapping,
 * dead letters, archive naming, the partition's receive cursor and queue,
 * and the demo reading generator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchiveSegment, archiveKey, progressKey } from '../src/speed/archive.js';
import { DLQ_HEADERS, deadLetterHeaders, deadLettersFor } from '../src/speed/dead-letters.js';
import { ReadingGenerator } from '../src/speed/generator.js';
import { joinMessages, messageAt } from '../src/speed/microbatch.js';
import { PartitionState } from '../src/speed/partition.js';
import type { SourceMessage } from '../src/speed/source.js';

const msg = (offset: number, value: string | null): SourceMessage => ({ offset, value: value === null ? null : Buffer.from(value), timestamp: 1_767_225_600_000 + offset });

describe('micro-batches', () => {
  it('joins values with one newline each, stripping a trailing line end', () => {
    const batch = joinMessages([msg(0, '{"a":1}'), msg(1, '{"a":2}\n'), msg(2, '{"a":3}\r\n')]);
    expect(batch.bytes.toString()).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    expect(batch.starts).toEqual([0, 8, 16]);
    expect(batch.empty).toEqual([]);
  });

  it('keeps null and blank values out of the bytes and lists them as empty', () => {
    const batch = joinMessages([msg(5, null), msg(6, '{"a":1}'), msg(7, '  \n'), msg(8, '')]);
    expect(batch.bytes.toString()).toBe('{"a":1}\n');
    expect(batch.joined).toEqual([1]);
    expect(batch.empty).toEqual([0, 2, 3]);
  });

  it('maps every byte of the joined buffer back to the message that holds it', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string({ minLength: 0, maxLength: 40 }), { nil: null }), { minLength: 1, maxLength: 60 }), (values) => {
        const messages = values.map((v, i) => msg(100 + i, v));
        const batch = joinMessages(messages);
        fc.pre(batch.joined.length > 0);
        // Each joined message's bytes (and its newline) map back to it.
        batch.joined.forEach((index, k) => {
          const start = batch.starts[k]!;
          const end = k + 1 < batch.starts.length ? batch.starts[k + 1]! : batch.bytes.length;
          for (let b = start; b < end; b++) expect(messageAt(batch, b)).toBe(index);
        });
        // Values round-trip (minus one trailing line end), in order.
        const lines = batch.joined.map((index, k) => batch.bytes.subarray(batch.starts[k]!, (batch.starts[k + 1] ?? batch.bytes.length) - 1).toString());
        expect(lines).toEqual(batch.joined.map((index) => messages[index]!.value!.toString().replace(/\r?\n$/, '')));
      }),
    );
  });
});

describe('dead letters', () => {
  it('gives each rejected message one letter with every reason, kind and rule id', () => {
    const batch = joinMessages([msg(10, '{"ok":1}'), msg(11, '{"bad":'), msg(12, null), msg(13, '{"t":999}\n{"t":"x"}')]);
    const rejects = [
      { line: 2, byteOffset: batch.starts[1]!, kind: 'malformed_json', ruleIds: [], reason: 'unexpected end' },
      { line: 3, byteOffset: batch.starts[2]!, kind: 'rule_failed', ruleIds: ['t_range'], reason: 't_range: t must be >= 0 and <= 100' },
      { line: 4, byteOffset: batch.starts[2]! + 10, kind: 'type_mismatch', ruleIds: [], field: 't', reason: "field 't': expected int64" },
    ];
    const letters = deadLettersFor('events', 2, batch, rejects, Date.UTC(2026, 0, 1));
    expect(letters.map((l) => l.message.offset)).toEqual([11, 12, 13]);
    expect(letters[1]!.kinds).toEqual(['empty_message']);
    expect(letters[2]!.kinds).toEqual(['rule_failed', 'type_mismatch']);
    expect(letters[2]!.ruleIds).toEqual(['t_range']);
    const headers = deadLetterHeaders(letters[2]!);
    expect(headers[DLQ_HEADERS.reason]).toBe("t_range: t must be >= 0 and <= 100; field 't': expected int64");
    expect(headers[DLQ_HEADERS.sourceTopic]).toBe('events');
    expect(headers[DLQ_HEADERS.sourcePartition]).toBe('2');
    expect(headers[DLQ_HEADERS.sourceOffset]).toBe('13');
    expect(headers[DLQ_HEADERS.time]).toBe('2026-01-01T00:00:00.000Z');
    expect(headers[DLQ_HEADERS.ruleIds]).toBe('t_range');
  });
});

describe('archive', () => {
  it('names objects by topic, partition, offset range and the first message hour (UTC)', () => {
    expect(archiveKey('kafka', 'events', 3, 1100, 1199, Date.UTC(2026, 0, 31, 23, 59, 59))).toBe(
      'source=kafka/topic=events/date=2026-01-31/hour=23/3-1100-1199.ndjson',
    );
    expect(progressKey('events', 3)).toBe('_progress/topic=events/partition=3.json');
  });

  it('collects the micro-batches of a checkpoint as NDJSON lines with their offset range', () => {
    const segment = new ArchiveSegment();
    segment.add(joinMessages([msg(7, '{"a":1}'), msg(8, null)]));
    segment.add(joinMessages([msg(9, '{"a":2}\n')]));
    expect([segment.firstOffset, segment.lastOffset, segment.messages]).toEqual([7, 9, 3]);
    expect(segment.body().toString()).toBe('{"a":1}\n{"a":2}\n');
    segment.clear();
    expect(segment.isEmpty).toBe(true);
  });
});

describe('partition queue', () => {
  it('drops repeats below the receive cursor and hands out micro-batches in offset order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(30), fc.integer({ min: 1, max: 20 })), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 25 }),
        (deliveries, max) => {
          // Deliveries may restart below what was already received (a refetch after a rebalance).
          const part = new PartitionState(0);
          part.receiveCursor = 0;
          let expected = 0;
          for (const [from, n] of deliveries) {
            const start = Math.min(from, expected);
            part.receive(Array.from({ length: n }, (_, i) => msg(start + i, 'x')), 0);
            expected = Math.max(expected, start + n);
          }
          const seen: number[] = [];
          while (part.pending > 0) for (const m of part.take(max)) seen.push(m.offset);
          expect(seen).toEqual(Array.from({ length: expected }, (_, i) => i));
        },
      ),
    );
  });
});

describe('reading generator', () => {
  it('is deterministic for a seed and mixes the invalid kinds in at the requested share', () => {
    const a = new ReadingGenerator({ seed: 7, invalidShare: 0.3 });
    const b = new ReadingGenerator({ seed: 7, invalidShare: 0.3 });
    const now = Date.UTC(2026, 0, 1);
    const xs = Array.from({ length: 3000 }, () => a.next(now));
    const ys = Array.from({ length: 3000 }, () => b.next(now));
    expect(xs.map((x) => x.line)).toEqual(ys.map((y) => y.line));
    const invalid = xs.filter((x) => x.kind !== 'valid').length / xs.length;
    expect(invalid).toBeGreaterThan(0.25);
    expect(invalid).toBeLessThan(0.35);
    for (const kind of ['malformed_json', 'type_mismatch', 'rule_violation'] as const) expect(xs.some((x) => x.kind === kind)).toBe(true);
    for (const x of xs) {
      if (x.kind === 'malformed_json') expect(() => JSON.parse(x.line)).toThrow();
      else expect(JSON.parse(x.line).id).toBe(x.id);
      if (x.kind === 'valid') {
        expect(x.reading.ts).toBeLessThanOrEqual(now);
        expect(x.reading.battery).toBeGreaterThanOrEqual(0);
        expect(x.reading.battery).toBeLessThanOrEqual(100);
      }
    }
    expect(new Set(xs.map((x) => x.id)).size).toBe(xs.length);
  });
});
