/**
 * An NDJSON file followed like `tail -f`, as one partition (0) whose
 * offsets are byte offsets of line starts. A line is delivered once its
 * newline is written; the checkpoint's offset is where reading resumes.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { SpeedLogger } from './ports.js';
import { silentLogger } from './ports.js';
import type { EventSource, PartitionOffset, SourceHandler, SourceMessage } from './source.js';

export interface FileSourceOptions {
  path: string;
  /** Stream name in checkpoint and archive keys (default: the file name, sanitised). */
  topic?: string;
  /** How often the file is checked for new bytes at its end (default 200 ms). */
  pollMs?: number;
  /** Bytes read per call (default 1 MiB). */
  readBytes?: number;
  logger?: SpeedLogger;
}

const NEWLINE = 0x0a;

export class FileSource implements EventSource {
  readonly kind = 'file' as const;
  readonly topic: string;
  private readonly logger: SpeedLogger;
  private position = 0;
  private paused = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: FileSourceOptions) {
    this.topic = options.topic ?? (basename(options.path).replace(/[^A-Za-z0-9._-]+/g, '_') || 'file');
    this.logger = options.logger ?? silentLogger;
  }

  async start(handler: SourceHandler): Promise<void> {
    const file = await open(this.options.path, 'r');
    handler.onAssignment([0]);
    this.loop = this.follow(file, handler).finally(() => file.close());
  }

  private async follow(file: FileHandle, handler: SourceHandler): Promise<void> {
    const pollMs = this.options.pollMs ?? 200;
    const chunk = Buffer.allocUnsafe(this.options.readBytes ?? 1 << 20);
    let carry: Buffer = Buffer.alloc(0);
    let carryAt = this.position;
    while (!this.stopped) {
      if (this.paused) {
        await this.sleep(pollMs);
        continue;
      }
      if (carryAt + carry.length !== this.position) {
        // A seek moved the position: drop the partial line read before it.
        carry = Buffer.alloc(0);
        carryAt = this.position;
      }
      const readAt = carryAt + carry.length;
      const { bytesRead } = await file.read(chunk, 0, chunk.length, readAt);
      if (this.position !== readAt) continue; // sought meanwhile
      if (bytesRead === 0) {
        const { size } = await file.stat();
        if (size < readAt) this.logger.error({ path: this.options.path, size, position: readAt }, 'followed file shrank; waiting for it to grow back');
        await this.sleep(pollMs);
        continue;
      }
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : Buffer.from(chunk.subarray(0, bytesRead));
      const messages: SourceMessage[] = [];
      const now = Date.now();
      let start = 0;
      for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
        messages.push({ offset: carryAt + start, nextOffset: carryAt + nl + 1, value: data.subarray(start, nl), timestamp: now });
        start = nl + 1;
      }
      carry = data.subarray(start);
      carryAt += start;
      this.position = carryAt + carry.length;
      if (messages.length > 0) handler.onBatch({ partition: 0, messages });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  seek(_partition: number, offset: number): void {
    this.position = offset;
    this.wake?.();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  async commit(_offsets: PartitionOffset[]): Promise<void> {}

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }
}
