/**
 * The two dead-letter sinks: a Kafka topic (the default `<topic>.dlq`) for
 * Kafka sources, and NDJSON objects in the errors location for the
 * generator and file sources, written with the checkpoint so a replay
 * overwrites them instead of repeating letters.
 */
import type { Producer } from 'kafkajs';
import type { DeadLetter, DeadLetterSink, StagedObject } from './dead-letters.js';
import { deadLetterHeaders, deadLetterRecord } from './dead-letters.js';

/**
 * Produces every dead letter to the DLQ topic with `acks: -1` and waits for
 * the acknowledgement, so letters are durable before the checkpoint that
 * passes their offsets. A replay after a crash can produce a letter again:
 * the DLQ is at-least-once, and the `pulse-source-*` headers identify
 * repeats.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  private connected: Promise<void> | undefined;

  constructor(
    private readonly producer: Producer,
    readonly dlqTopic: string,
  ) {}

  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    await this.connected;
    await this.producer.send({
      topic: this.dlqTopic,
      acks: -1,
      messages: letters.map((letter) => ({
        key: letter.message.key ?? null,
        value: letter.message.value,
        headers: deadLetterHeaders(letter),
      })),
    });
  }

  stage(): StagedObject[] {
    return [];
  }

  clear(): void {}

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/**
 * Keeps each partition's dead letters until its next checkpoint commits, which
 * writes them as one object `speed/<topic>-<partition>/<first>-<last>.ndjson`
 * under the errors location, named by the checkpoint's offset range.
 */
export class StagedDeadLetterSink implements DeadLetterSink {
  private readonly staged = new Map<number, Buffer[]>();

  constructor(
    readonly topic: string,
    readonly prefix: string = 'speed/',
  ) {}

  async send(letters: DeadLetter[]): Promise<void> {
    for (const letter of letters) {
      let lines = this.staged.get(letter.partition);
      if (!lines) this.staged.set(letter.partition, (lines = []));
      lines.push(Buffer.from(JSON.stringify(deadLetterRecord(letter)) + '\n'));
    }
  }

  stage(partition: number, firstOffset: number, lastOffset: number): StagedObject[] {
    const lines = this.staged.get(partition);
    if (!lines || lines.length === 0) return [];
    return [{ key: `${this.prefix}${this.topic}-${partition}/${firstOffset}-${lastOffset}.ndjson`, body: Buffer.concat(lines) }];
  }

  clear(partition: number): void {
    this.staged.delete(partition);
  }

  async close(): Promise<void> {}
}
