/**
 * The built-in event source of `pulse up`: demo readings at a steady rate
 * on one partition (0) whose offsets are sequence numbers. It goes through
 * the same micro-batch, checkpoint and archive code as Kafka; a restart
 * resumes numbering at the checkpoint's offset.
 */
import { ReadingGenerator, type ReadingGeneratorOptions } from './generator.js';
import type { EventSource, PartitionOffset, SourceHandler, SourceMessage } from './source.js';

export interface GeneratorSourceOptions extends ReadingGeneratorOptions {
  eventsPerSecond: number;
  /** Stream name used in checkpoint and archive keys (default `generator`). */
  topic?: string;
  /** How often a batch is emitted (default 100 ms). */
  tickMs?: number;
}

export class GeneratorSource implements EventSource {
  readonly kind = 'generator' as const;
  readonly topic: string;
  private readonly generator: ReadingGenerator;
  private timer: NodeJS.Timeout | undefined;
  private nextOffset = 0;
  private paused = false;
  private owed = 0;
  private last = 0;

  constructor(private readonly options: GeneratorSourceOptions) {
    if (!(options.eventsPerSecond > 0)) throw new RangeError(`eventsPerSecond must be positive, got ${options.eventsPerSecond}`);
    this.topic = options.topic ?? 'generator';
    this.generator = new ReadingGenerator(options);
  }

  async start(handler: SourceHandler): Promise<void> {
    handler.onAssignment([0]);
    this.last = Date.now();
    this.timer = setInterval(() => this.tick(handler), this.options.tickMs ?? 100);
  }

  private tick(handler: SourceHandler): void {
    const now = Date.now();
    this.owed += ((now - this.last) / 1000) * this.options.eventsPerSecond;
    this.last = now;
    if (this.paused) {
      this.owed = Math.min(this.owed, this.options.eventsPerSecond);
      return;
    }
    const n = Math.floor(this.owed);
    if (n === 0) return;
    this.owed -= n;
    const messages: SourceMessage[] = new Array(n);
    for (let i = 0; i < n; i++) {
      messages[i] = { offset: this.nextOffset++, value: Buffer.from(this.generator.next(now).line), timestamp: now };
    }
    handler.onBatch({ partition: 0, messages, highWatermark: this.nextOffset });
  }

  seek(_partition: number, offset: number): void {
    this.nextOffset = offset;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  async commit(_offsets: PartitionOffset[]): Promise<void> {}

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
