/**
 * What a batch run tells a progress display: objects and bytes to do, bytes
 * and records as they stream, rejects, objects finished.
 */
import type { ProgressTap } from './object.js';

export interface BatchProgress extends ProgressTap {
  start(objects: number, bytes: number): void;
  objectDone(failed: boolean): void;
  stop(): void;
}
