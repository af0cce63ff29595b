import type { SimContext } from '../context.js';
import type { Account } from '../population.js';
import type { Rng } from '../rng.js';
import type { Timer } from '../scheduler.js';
import { Agent } from './agent.js';

const DEPOSIT = 1;
const WITHDRAW = 2;

/**
 * Legitimate new users: they open an account (some referred, some from the welcome-bonus
 * campaign), log in from their own device, deposit, trade a little and sometimes withdraw soon
 * after. Young accounts with bonuses and quick withdrawals are therefore not abuse by themselves.
 */
export class Signups extends Agent {
  readonly campaignId: string;

  constructor(ctx: SimContext, rng: Rng) {
    super(ctx, rng);
    this.campaignId = ctx.ids.campaign();
  }

  private get gap(): number {
    return 3_600_000 / Math.max(1e-9, this.ctx.cfg.population.signupsPerHour);
  }

  start(at: number): void {
    if (this.ctx.cfg.population.signupsPerHour > 0) this.wakeAt(at + this.rng.exp(this.gap));
  }

  fire(timer: Timer, now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    if (timer.code === DEPOSIT) {
      const a = timer.data as Account;
      ctx.ensureSession(a, now, false);
      ctx.deposit(a, now, 0, rng.lognormal(300, 1), ctx.chainFor(0, rng));
      if (rng.chance(0.4)) ctx.bonus(a, now, this.campaignId, rng.pick([5, 10, 10, 20, 50]));
      ctx.pop.newcomers.add(a);
      ctx.pop.traders.add(a);
      if (rng.chance(0.2)) this.later(now + rng.exp(40 * 60_000), WITHDRAW, a);
      return;
    }
    if (timer.code === WITHDRAW) {
      const a = timer.data as Account;
      const chain = ctx.chainFor(0, rng);
      ctx.ensureSession(a, now, false);
      if (a.balances[0] > 10) ctx.withdrawal(a, now, 0, a.balances[0] * rng.uniform(0.3, 1), chain, ctx.payoutAddress(a, chain));
      return;
    }
    const a = ctx.pop.create('signup');
    if (rng.chance(0.25)) a.referrerId = rng.pick(ctx.pop.retail).id;
    a.activity = rng.lognormal(1, 0.5);
    ctx.accountOpened(a, now);
    ctx.login(a, now, a.devices[0], a.ips[0]);
    if (rng.chance(0.85)) this.later(now + rng.exp(6 * 60_000), DEPOSIT, a);
    this.wakeAfter(rng.exp(this.gap));
  }
}
