/**
 * Dead letters: every message the speed layer could not apply (a parse or
 * rule reject, a late event, an empty message) leaves with its original
 * value and headers naming why, where it came from and when. One dead
 * letter per message: a message whose bytes held several bad records gets
 * their reasons joined.
 */
import type { MicroBatch } from './microbatch.js';
import { messageAt } from './microbatch.js';
import type { PipelineRejectLike } from './ports.js';
import type { MessageHeaders, SourceMessage } from './source.js';

/** Header names on dead-letter messages. */
export const DLQ_HEADERS = {
  reason: 'pulse-reason',
  kind: 'pulse-kind',
  ruleIds: 'pulse-rule-ids',
  sourceTopic: 'pulse-source-topic',
  sourcePartition: 'pulse-source-partition',
  sourceOffset: 'pulse-source-offset',
  time: 'pulse-time',
} as const;

export interface DeadLetter {
  topic: string;
  partition: number;
  message: SourceMessage;
  /** Reject kinds, distinct, in order of appearance (`malformed_json`, `rule_failed`, `late`, `empty_message`, …). */
  kinds: string[];
  reasons: string[];
  ruleIds: string[];
  /** When the speed layer rejected it (ms since the epoch). */
  time: number;
}

/** Groups the pipeline's rejects (and the empty messages) by the message that carried them. */
export function deadLettersFor(
  topic: string,
  partition: number,
  batch: MicroBatch,
  rejects: PipelineRejectLike[],
  time: number,
): DeadLetter[] {
  const byMessage = new Map<number, DeadLetter>();
  const letterFor = (index: number): DeadLetter => {
    let letter = byMessage.get(index);
    if (!letter) {
      letter = { topic, partition, message: batch.messages[index]!, kinds: [], reasons: [], ruleIds: [], time };
      byMessage.set(index, letter);
    }
    return letter;
  };
  for (const index of batch.empty) {
    const letter = letterFor(index);
    letter.kinds.push('empty_message');
    letter.reasons.push(batch.messages[index]!.value === null ? 'message has no value' : 'message value is blank');
  }
  for (const reject of rejects) {
    const letter = letterFor(messageAt(batch, reject.byteOffset));
    if (!letter.kinds.includes(reject.kind)) letter.kinds.push(reject.kind);
    letter.reasons.push(reject.reason);
    for (const id of reject.ruleIds) if (!letter.ruleIds.includes(id)) letter.ruleIds.push(id);
  }
  return [...byMessage.entries()].sort((a, b) => a[0] - b[0]).map(([, letter]) => letter);
}

/** The headers of a dead-letter message: the original ones plus `pulse-*`. */
export function deadLetterHeaders(letter: DeadLetter): MessageHeaders {
  return {
    ...(letter.message.headers ?? {}),
    [DLQ_HEADERS.reason]: letter.reasons.join('; '),
    [DLQ_HEADERS.kind]: letter.kinds.join(','),
    [DLQ_HEADERS.ruleIds]: letter.ruleIds.join(','),
    [DLQ_HEADERS.sourceTopic]: letter.topic,
    [DLQ_HEADERS.sourcePartition]: String(letter.partition),
    [DLQ_HEADERS.sourceOffset]: String(letter.message.offset),
    [DLQ_HEADERS.time]: new Date(letter.time).toISOString(),
  };
}

/** A dead letter as one JSON line (the store sink's format). */
export function deadLetterRecord(letter: DeadLetter): Record<string, unknown> {
  return {
    reason: letter.reasons.join('; '),
    kind: letter.kinds.join(','),
    ruleIds: letter.ruleIds,
    sourceTopic: letter.topic,
    sourcePartition: letter.partition,
    sourceOffset: String(letter.message.offset),
    time: new Date(letter.time).toISOString(),
    value: letter.message.value?.toString('utf8') ?? null,
  };
}

/** An object a sink wants written as part of the next checkpoint. */
export interface StagedObject {
  key: string;
  body: Buffer;
}

/**
 * Where dead letters go. `send` is awaited once per micro-batch and must
 * make them durable (or stage them) before the checkpoint passes their
 * offsets.
 */
export interface DeadLetterSink {
  send(letters: DeadLetter[]): Promise<void>;
  /**
   * Objects to write with the partition's next checkpoint (the store sink's
   * staged letters). Staging again before `clear` includes them again, so a
   * failed checkpoint attempt loses nothing.
   */
  stage(partition: number, firstOffset: number, lastOffset: number): StagedObject[];
  /** The checkpoint committed, or the partition was dropped: forget what was staged. */
  clear(partition: number): void;
  close(): Promise<void>;
}
