/**
 * Discrete-event scheduler on simulated event time (milliseconds, fractional allowed so that many
 * actions can share one millisecond in a defined order). Never reads the wall clock.
 *
 * Timers are small reusable objects of one shape kept in a binary heap ordered by (time, tie);
 * the tie counter makes equal times fire in scheduling order, so runs are deterministic.
 */
export interface Actor {
  fire(timer: Timer, now: number): void;
}

export class Timer {
  t = 0;
  tie = 0;
  /** Position in the heap, -1 when not scheduled. */
  idx = -1;
  constructor(
    readonly actor: Actor,
    public code = 0,
    public data: unknown = null,
  ) {}

  get scheduled(): boolean {
    return this.idx >= 0;
  }
}

export class Scheduler {
  now: number;
  fired = 0;
  private readonly heap: Timer[] = [];
  private tieCounter = 0;

  constructor(start: number) {
    this.now = start;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Time of the earliest pending timer, or Infinity. */
  peekTime(): number {
    return this.heap.length ? this.heap[0].t : Infinity;
  }

  /** Schedules (or moves) a timer. Times in the past are clamped to now. */
  at(timer: Timer, t: number): void {
    const when = t < this.now ? this.now : t;
    if (timer.idx >= 0) {
      const old = timer.t;
      timer.t = when;
      timer.tie = this.tieCounter++;
      if (when < old) this.up(timer.idx);
      else this.down(timer.idx);
      return;
    }
    timer.t = when;
    timer.tie = this.tieCounter++;
    timer.idx = this.heap.length;
    this.heap.push(timer);
    this.up(timer.idx);
  }

  after(timer: Timer, delay: number): void {
    this.at(timer, this.now + delay);
  }

  /** A one-shot timer. */
  once(actor: Actor, t: number, code = 0, data: unknown = null): Timer {
    const timer = new Timer(actor, code, data);
    this.at(timer, t);
    return timer;
  }

  cancel(timer: Timer): void {
    const i = timer.idx;
    if (i < 0) return;
    const last = this.heap.pop()!;
    timer.idx = -1;
    if (last !== timer) {
      this.heap[i] = last;
      last.idx = i;
      this.down(i);
      this.up(last.idx);
    }
  }

  /** Fires every timer due strictly before `end`, in time order; leaves `now` at `end`. */
  runUntil(end: number): number {
    const heap = this.heap;
    let n = 0;
    while (heap.length > 0 && heap[0].t < end) {
      const timer = this.pop();
      this.now = timer.t;
      n++;
      timer.actor.fire(timer, timer.t);
    }
    this.fired += n;
    if (end > this.now) this.now = end;
    return n;
  }

  private pop(): Timer {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    top.idx = -1;
    if (last !== top) {
      heap[0] = last;
      last.idx = 0;
      this.down(0);
    }
    return top;
  }

  private less(a: Timer, b: Timer): boolean {
    return a.t < b.t || (a.t === b.t && a.tie < b.tie);
  }

  private up(i: number): void {
    const heap = this.heap;
    const x = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const y = heap[p];
      if (!this.less(x, y)) break;
      heap[i] = y;
      y.idx = i;
      i = p;
    }
    heap[i] = x;
    x.idx = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const x = heap[i];
    while (true) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(heap[r], heap[l]) ? r : l;
      const y = heap[c];
      if (!this.less(y, x)) break;
      heap[i] = y;
      y.idx = i;
      i = c;
    }
    heap[i] = x;
    x.idx = i;
  }
}
