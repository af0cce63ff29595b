import { TimeHeap } from './heap.js';

/**
 * Event-time watermark with a bounded reorder buffer and allowed lateness.
 *
 * - The watermark trails the newest event time seen by `maxOutOfOrderMs`: it asserts "no event
 *   older than this is still expected". It never moves backwards and never reads the wall clock.
 * - On-time events (ts >= watermark) wait in a min-heap and are released in event-time order
 *   (ties keep arrival order) once the watermark reaches them. With `maxOutOfOrderMs = 0` an
 *   in-order stream passes straight through without touching the heap.
 * - Late events (ts < watermark) are never dropped silently: within `allowedLatenessMs` they go to
 *   `onLate` (the caller processes them at once, out of order); beyond it they go to `onTooLate`
 *   (the caller turns them into dead letters with reason "late event"). Both are counted.
 * - Memory is bounded: if more than `maxBuffered` events wait, the oldest are released early
 *   (counted as `forcedReleases`) and the watermark moves up to them.
 *
 * push is O(log b) for b buffered events (O(1) on the in-order fast path).
 */
export interface WatermarkOptions {
  /** How far (ms) an event may trail the newest event time and still be put in order. Default 0. */
  maxOutOfOrderMs?: number;
  /** How far (ms) behind the watermark a late event is still processed. Default 60 000. */
  allowedLatenessMs?: number;
  /** Upper bound on buffered events. Default 1 000 000. */
  maxBuffered?: number;
}

/** Receives the three outputs; an interface rather than callbacks so no closure is made per event. */
export interface WatermarkOutput<T> {
  /** An event released in event-time order; `ts` <= the current watermark. */
  onRelease(item: T, ts: number): void;
  /** A late event within the allowed lateness, handed on immediately (out of order). */
  onLate(item: T, ts: number, lateness: number): void;
  /** A late event beyond the allowed lateness: it must become a dead letter. */
  onTooLate(item: T, ts: number, lateness: number): void;
}

export class Watermark<T> {
  readonly maxOutOfOrderMs: number;
  readonly allowedLatenessMs: number;
  readonly maxBuffered: number;
  /** The current watermark (event time, ms); -Infinity before the first event. */
  current = -Infinity;
  /** Newest event time seen among on-time events. */
  maxSeen = -Infinity;
  released = 0;
  late = 0;
  tooLate = 0;
  forcedReleases = 0;
  maxBufferedSeen = 0;
  private readonly heap = new TimeHeap<T>();

  constructor(private readonly out: WatermarkOutput<T>, opts: WatermarkOptions = {}) {
    this.maxOutOfOrderMs = Math.max(0, opts.maxOutOfOrderMs ?? 0);
    this.allowedLatenessMs = Math.max(0, opts.allowedLatenessMs ?? 60_000);
    this.maxBuffered = Math.max(1, opts.maxBuffered ?? 1_000_000);
  }

  /** Events waiting in the reorder buffer. */
  get buffered(): number {
    return this.heap.size;
  }

  push(item: T, ts: number): void {
    if (!(ts >= this.current)) {
      // NaN lands here too: an event without a usable time cannot be placed, treat it as too late.
      const lateness = this.current - ts;
      if (lateness <= this.allowedLatenessMs) {
        this.late++;
        this.out.onLate(item, ts, lateness);
      } else {
        this.tooLate++;
        this.out.onTooLate(item, ts, lateness);
      }
      return;
    }
    if (ts > this.maxSeen) this.maxSeen = ts;
    const wm = this.maxSeen - this.maxOutOfOrderMs;
    if (this.heap.size === 0 && ts <= wm) {
      // fast path: in order and already due
      if (wm > this.current) this.current = wm;
      this.released++;
      this.out.onRelease(item, ts);
      return;
    }
    this.heap.push(ts, item);
    if (this.heap.size > this.maxBufferedSeen) this.maxBufferedSeen = this.heap.size;
    if (wm > this.current) this.advance(wm);
    while (this.heap.size > this.maxBuffered) {
      this.forcedReleases++;
      this.advance(this.heap.peekTime());
    }
  }

  /**
   * Moves the watermark to `t` (if later) and releases everything up to it. A live source can call
   * this from a heartbeat so a quiet feed does not hold events back forever.
   */
  advance(t: number): void {
    if (t > this.current) this.current = t;
    const heap = this.heap;
    const out = this.out;
    while (heap.size > 0 && heap.peekTime() <= this.current) {
      const ts = heap.peekTime();
      const item = heap.pop()!;
      this.released++;
      out.onRelease(item, ts);
    }
  }

  /** End of input: release everything still buffered; the watermark moves to the newest time seen. */
  flush(): void {
    this.advance(Math.max(this.maxSeen, this.heap.size > 0 ? this.heap.peekTime() : -Infinity));
    while (this.heap.size > 0) this.advance(this.heap.peekTime());
  }
}
