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
 * Buffered events that arrive in event-time order (the usual case) queue in a FIFO ring; only those
 * older than the newest buffered one go to a min-heap, and releases merge the two by (time, arrival).
 * push and release are O(1) for in-order arrivals, O(log b) for b buffered out-of-order ones.
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
  /** Out-of-order arrivals (older than the newest buffered event), keyed by (time, arrival). */
  private readonly heap = new TimeHeap<T>();
  // In-order arrivals: a FIFO ring (times non-decreasing), parallel arrays, capacity a power of two.
  private fTimes = new Float64Array(1024);
  private fSeqs = new Float64Array(1024);
  private fItems: (T | undefined)[] = new Array<T | undefined>(1024);
  private fHead = 0;
  private fSize = 0;
  private seq = 0;

  constructor(private readonly out: WatermarkOutput<T>, opts: WatermarkOptions = {}) {
    this.maxOutOfOrderMs = Math.max(0, opts.maxOutOfOrderMs ?? 0);
    this.allowedLatenessMs = Math.max(0, opts.allowedLatenessMs ?? 60_000);
    this.maxBuffered = Math.max(1, opts.maxBuffered ?? 1_000_000);
  }

  /** Events waiting in the reorder buffer. */
  get buffered(): number {
    return this.heap.size + this.fSize;
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
    if (this.fSize === 0 && this.heap.size === 0 && ts <= wm) {
      // fast path: in order and already due
      if (wm > this.current) this.current = wm;
      this.released++;
      this.out.onRelease(item, ts);
      return;
    }
    const seq = this.seq++;
    const n = this.fSize;
    if (n === 0 || ts >= this.fTimes[(this.fHead + n - 1) & (this.fTimes.length - 1)]) {
      if (n === this.fTimes.length) this.growFifo();
      const i = (this.fHead + n) & (this.fTimes.length - 1);
      this.fTimes[i] = ts;
      this.fSeqs[i] = seq;
      this.fItems[i] = item;
      this.fSize = n + 1;
    } else this.heap.push(ts, item, seq);
    const buffered = this.fSize + this.heap.size;
    if (buffered > this.maxBufferedSeen) this.maxBufferedSeen = buffered;
    if (wm > this.current) this.advance(wm);
    while (this.fSize + this.heap.size > this.maxBuffered) {
      this.forcedReleases++;
      this.advance(this.nextTime());
    }
  }

  /** Time of the next buffered event, +Infinity when none. */
  private nextTime(): number {
    const f = this.fSize > 0 ? this.fTimes[this.fHead] : Infinity;
    const h = this.heap.peekTime();
    return f < h ? f : h;
  }

  /**
   * Moves the watermark to `t` (if later) and releases everything up to it. A live source can call
   * this from a heartbeat so a quiet feed does not hold events back forever.
   */
  advance(t: number): void {
    if (t > this.current) this.current = t;
    const heap = this.heap;
    const out = this.out;
    const mask = this.fTimes.length - 1;
    while (true) {
      const fts = this.fSize > 0 ? this.fTimes[this.fHead] : Infinity;
      const hts = heap.peekTime();
      // The earlier of the two queues' heads; on equal times the earlier arrival.
      const fromFifo = fts < hts || (fts === hts && fts !== Infinity && this.fSeqs[this.fHead] < heap.peekSeq());
      const ts = fromFifo ? fts : hts;
      if (!(ts <= this.current)) return;
      let item: T;
      if (fromFifo) {
        item = this.fItems[this.fHead]!;
        this.fItems[this.fHead] = undefined;
        this.fHead = (this.fHead + 1) & mask;
        this.fSize--;
      } else item = heap.pop()!;
      this.released++;
      out.onRelease(item, ts);
    }
  }

  /** End of input: release everything still buffered; the watermark moves to the newest time seen. */
  flush(): void {
    this.advance(Math.max(this.maxSeen, this.nextTime() < Infinity ? this.nextTime() : -Infinity));
    while (this.buffered > 0) this.advance(this.nextTime());
  }

  private growFifo(): void {
    const cap = this.fTimes.length * 2;
    const times = new Float64Array(cap);
    const seqs = new Float64Array(cap);
    const items = new Array<T | undefined>(cap);
    const mask = this.fTimes.length - 1;
    for (let k = 0; k < this.fSize; k++) {
      const i = (this.fHead + k) & mask;
      times[k] = this.fTimes[i];
      seqs[k] = this.fSeqs[i];
      items[k] = this.fItems[i];
    }
    this.fTimes = times;
    this.fSeqs = seqs;
    this.fItems = items;
    this.fHead = 0;
  }
}
