import type { SimContext } from '../context.js';
import type { Rng } from '../rng.js';
import { Timer, type Actor } from '../scheduler.js';

/** Base of every simulated actor: its own random stream and one reusable wake-up timer. */
export abstract class Agent implements Actor {
  readonly timer: Timer;
  constructor(
    readonly ctx: SimContext,
    readonly rng: Rng,
  ) {
    this.timer = new Timer(this);
  }

  abstract fire(timer: Timer, now: number): void;

  /** Wakes again after `ms`, if still inside the run. */
  wakeAfter(ms: number): void {
    const t = this.ctx.sched.now + ms;
    if (t < this.ctx.end) this.ctx.sched.at(this.timer, t);
  }

  wakeAt(t: number): void {
    if (t < this.ctx.end) this.ctx.sched.at(this.timer, t);
  }

  /** A one-shot callback into this agent (`code` and `data` tell what for). */
  later(t: number, code: number, data: unknown = null): void {
    if (t < this.ctx.end) this.ctx.sched.once(this, t, code, data);
  }
}
