import type { Clock } from '@fedsnell/coordinator';

interface Timer {
  due: number;
  fn: () => void;
}

/**
 * The coordinator's clock in a simulation: wall time plus the jumps `fireNext` makes. Its timers
 * (round deadlines, the grace after minReplies, reconnect grace) fire only when the simulation moves
 * time to them, never because training happened to be slow, so the same seed closes every round
 * with the same replies. A timer of 0 ms is due at once and fires on the next turn of the event loop.
 */
export class SimClock implements Clock {
  private offset = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  now(): number {
    return Date.now() + this.offset;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { due: this.now() + ms, fn });
    if (ms <= 0) setImmediate(() => this.fire(id));
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /**
   * Moves time forward to the earliest timer due by `limit` and fires it; false when none is due.
   * One at a time, so that what the timer sets off (a round closing) can clear later timers first.
   */
  fireNext(limit: number): boolean {
    let next: [number, Timer] | undefined;
    for (const entry of this.timers) if (entry[1].due <= limit && (!next || entry[1].due < next[1].due)) next = entry;
    if (!next) return false;
    const now = this.now();
    if (next[1].due > now) this.offset += next[1].due - now;
    this.fire(next[0]);
    return true;
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  private fire(id: number): void {
    const timer = this.timers.get(id);
    if (!timer) return;
    this.timers.delete(id);
    timer.fn();
  }
}
