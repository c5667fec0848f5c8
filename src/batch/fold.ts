/**
 * Folds per-object view states into the run's states in input order.
 *
 * Merging is exact and commutative for counts, min/max and the sketches,
 * but a floating-point sum depends on the order it is added in. Objects
 * finish in any order, so their states wait here until every earlier object
 * is folded: the published snapshot is then a function of the input list
 * alone, byte for byte, whatever the concurrency or timing. A worker may run
 * at most `window` objects ahead of the oldest unfolded one, which bounds the
 * states held at once.
 */
/** Anything whose states merge into one another, like the fused pipeline's views. */
export interface Mergeable<T> {
  merge(other: T): void;
  /** Frees a part's states once folded (native memory is not the JS heap's). */
  close?(): void;
}

export class OrderedFold<T extends Mergeable<T>> {
  private readonly waiting = new Map<number, T | undefined>();
  private next = 0;
  private readonly roomWaiters: { position: number; resolve: () => void }[] = [];

  constructor(
    readonly into: T,
    private readonly window: number,
  ) {
    if (window < 1) throw new RangeError('fold window must be at least 1');
  }

  /** Resolves once the object at `position` may start without overrunning the window. */
  room(position: number): Promise<void> {
    if (position < this.next + this.window) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ position, resolve }));
  }

  /** Hands over the states of the object at `position` (undefined: it failed, nothing to fold). */
  add(position: number, states: T | undefined): void {
    this.waiting.set(position, states);
    while (this.waiting.has(this.next)) {
      const p = this.waiting.get(this.next);
      this.waiting.delete(this.next);
      if (p) {
        this.into.merge(p);
        p.close?.();
      }
      this.next++;
    }
    for (let i = this.roomWaiters.length - 1; i >= 0; i--) {
      const w = this.roomWaiters[i]!;
      if (w.position < this.next + this.window) {
        this.roomWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Releases every waiting worker (the run is stopping; they check why themselves). */
  cancel(): void {
    for (const w of this.roomWaiters.splice(0)) w.resolve();
  }

  /** Objects folded so far. */
  get folded(): number {
    return this.next;
  }
}
