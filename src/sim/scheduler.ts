/**
 * Discrete-event scheduler on simulated event time (milliseconds, fractional allowed so that many
 * actions can share one millisecond in a defined order). Never reads the wall clock.
 *
 * Timers are small reusable objects of one shape kept in a binary heap ordered by (time, tie);
 * the tie counter makes equal times fire in scheduling order, so runs are deterministic.
 * `t`/`tie` on a timer mirror its heap entry for callers; the heap itself compares typed arrays.
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

  /** Pending, or firing and not yet rescheduled or cancelled. */
  get scheduled(): boolean {
    return this.idx >= 0;
  }
}

export class Scheduler {
  now: number;
  fired = 0;
  /**
   * The heap in parallel arrays: times and ties in typed arrays (comparisons never touch the
   * timer objects), the timers alongside. Grown by doubling.
   */
  private times = new Float64Array(1024);
  private ties = new Float64Array(1024);
  private timers: (Timer | null)[] = new Array<Timer | null>(1024).fill(null);
  private size = 0;
  private tieCounter = 0;

  constructor(start: number) {
    this.now = start;
  }

  get pending(): number {
    return this.size;
  }

  /** Time of the earliest pending timer, or Infinity. */
  peekTime(): number {
    return this.size > 0 ? this.times[0] : Infinity;
  }

  /** Schedules (or moves) a timer. Times in the past are clamped to now. */
  at(timer: Timer, t: number): void {
    const when = t < this.now ? this.now : t;
    const tie = this.tieCounter++;
    timer.t = when;
    timer.tie = tie;
    let i = timer.idx;
    if (i >= 0) {
      const old = this.times[i];
      this.times[i] = when;
      this.ties[i] = tie;
      if (when < old) this.up(i);
      else this.down(i);
      return;
    }
    i = this.size++;
    if (i === this.times.length) this.grow();
    this.times[i] = when;
    this.ties[i] = tie;
    this.timers[i] = timer;
    timer.idx = i;
    this.up(i);
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
    timer.idx = -1;
    const last = --this.size;
    if (i !== last) {
      this.move(last, i);
      this.down(i);
      this.up(this.timers[i]!.idx);
    }
    this.timers[last] = null;
  }

  /** Fires every timer due strictly before `end`, in time order; leaves `now` at `end`. */
  runUntil(end: number): number {
    let n = 0;
    while (this.size > 0 && this.times[0] < end) {
      const t = this.times[0];
      const tie = this.ties[0];
      const timer = this.timers[0]!;
      this.now = t;
      n++;
      // The timer stays at the root while it fires: an actor that reschedules itself (most do) moves
      // it down in place instead of a pop and a push. Same (time, tie) entries, so the same order.
      timer.actor.fire(timer, t);
      if (this.ties[0] === tie && this.size > 0 && this.timers[0] === timer) this.pop();
    }
    this.fired += n;
    if (end > this.now) this.now = end;
    return n;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const times = new Float64Array(n);
    times.set(this.times);
    const ties = new Float64Array(n);
    ties.set(this.ties);
    this.times = times;
    this.ties = ties;
    for (let i = this.timers.length; i < n; i++) this.timers.push(null);
  }

  private pop(): Timer {
    const top = this.timers[0]!;
    top.idx = -1;
    const last = --this.size;
    if (last > 0) {
      this.move(last, 0);
      this.down(0);
    }
    this.timers[last] = null;
    return top;
  }

  /** Copies heap entry `from` into slot `to`. */
  private move(from: number, to: number): void {
    this.times[to] = this.times[from];
    this.ties[to] = this.ties[from];
    const x = this.timers[from]!;
    this.timers[to] = x;
    x.idx = to;
  }

  private up(i: number): void {
    const times = this.times;
    const ties = this.ties;
    const timers = this.timers;
    const t = times[i];
    const tie = ties[i];
    const x = timers[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p];
      if (pt < t || (pt === t && ties[p] < tie)) break;
      times[i] = pt;
      ties[i] = ties[p];
      const y = timers[p]!;
      timers[i] = y;
      y.idx = i;
      i = p;
    }
    times[i] = t;
    ties[i] = tie;
    timers[i] = x;
    x.idx = i;
  }

  private down(i: number): void {
    const times = this.times;
    const ties = this.ties;
    const timers = this.timers;
    const n = this.size;
    const t = times[i];
    const tie = ties[i];
    const x = timers[i]!;
    while (true) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (times[r] < times[l] || (times[r] === times[l] && ties[r] < ties[l]))) c = r;
      const ct = times[c];
      if (t < ct || (t === ct && tie < ties[c])) break;
      times[i] = ct;
      ties[i] = ties[c];
      const y = timers[c]!;
      timers[i] = y;
      y.idx = i;
      i = c;
    }
    times[i] = t;
    ties[i] = tie;
    timers[i] = x;
    x.idx = i;
  }
}
