import type { SimContext } from '../context.js';
import type { Account } from '../population.js';
import type { Rng } from '../rng.js';
import { Timer } from '../scheduler.js';
import type { Venue } from '../venue.js';
import { Agent } from './agent.js';

const LOGIN = 1;
const DEPOSIT = 2;
const WITHDRAW = 3;
const TRANSFER = 4;
const API = 5;
const BALANCES = 6;
const POSITIONS = 7;

/**
 * Account-level life of the standing population: logins without trading, deposits and
 * withdrawals on several chains, internal transfers between a person's own accounts, aggregated
 * API key usage, and periodic balance and position snapshots.
 */
export class AccountActivity extends Agent {
  private readonly timers: Timer[];
  /** Mean gap (ms) of each Poisson process, by code. */
  private readonly gaps: Record<number, number>;
  private readonly subs: Account[];

  constructor(
    ctx: SimContext,
    rng: Rng,
    private readonly venue: Venue,
  ) {
    super(ctx, rng);
    const n = ctx.pop.retail.length;
    this.subs = ctx.pop.retail.filter((a) => a.master !== null);
    const perHour = (x: number) => 3_600_000 / Math.max(x, 1e-9);
    this.gaps = {
      [LOGIN]: perHour(n * 0.12),
      [DEPOSIT]: perHour(n * 0.025 + 4),
      [WITHDRAW]: perHour(n * 0.02 + 3),
      [TRANSFER]: perHour(this.subs.length * 0.3 + 4),
    };
    this.timers = [LOGIN, DEPOSIT, WITHDRAW, TRANSFER, API, BALANCES, POSITIONS].map((c) => new Timer(this, c));
  }

  start(at: number): void {
    const s = this.ctx.sched;
    for (const t of this.timers) {
      if (t.code === API) s.at(t, Math.ceil(at / 60_000) * 60_000);
      else if (t.code === BALANCES) s.at(t, Math.ceil(at / 60_000) * 60_000 + this.ctx.cfg.marketData.balanceSnapshotIntervalMs / 3);
      else if (t.code === POSITIONS) s.at(t, Math.ceil(at / 60_000) * 60_000 + 30_000);
      else s.at(t, at + this.rng.exp(this.gaps[t.code]));
    }
  }

  fire(timer: Timer, now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    const pop = ctx.pop;
    const md = ctx.cfg.marketData;
    let next: number;
    switch (timer.code) {
      case LOGIN:
        ctx.ensureSession(rng.pick(pop.retail), now, false);
        next = rng.exp(this.gaps[LOGIN]);
        break;
      case DEPOSIT:
        this.deposit(rng.pick(pop.retail), now);
        next = rng.exp(this.gaps[DEPOSIT]);
        break;
      case WITHDRAW:
        this.withdraw(rng.pick(pop.retail), now);
        next = rng.exp(this.gaps[WITHDRAW]);
        break;
      case TRANSFER:
        this.transfer(now);
        next = rng.exp(this.gaps[TRANSFER]);
        break;
      case API:
        for (const a of pop.all) {
          if (a.apiRequests > 0) {
            ctx.apiKeyUsed(a, now, a.apiRequests);
            a.apiRequests = 0;
          }
        }
        next = 60_000;
        break;
      case BALANCES:
        for (const a of pop.all) if (a.dirty) ctx.balanceSnapshot(a, now);
        next = md.balanceSnapshotIntervalMs;
        break;
      case POSITIONS:
        for (const m of ctx.perps) {
          const mark = this.venue.markOf(m);
          for (const p of ctx.perpPositions[m.index]) if (p.lots !== 0) ctx.positionSnapshot(p, mark, now);
        }
        next = md.positionSnapshotIntervalMs;
        break;
      default:
        return;
    }
    if (now + next < ctx.end) ctx.sched.at(timer, now + next);
  }

  private deposit(a: Account, now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    const r = rng.float();
    const asset = r < 0.6 ? 0 : r < 0.8 ? ctx.asset('BTC') : r < 0.95 ? ctx.asset('ETH') : rng.int(3, ctx.assets.length - 1);
    const usd = rng.lognormal(900, 1.2);
    const status = rng.chance(0.97) ? 'completed' : rng.chance(0.6) ? 'pending' : 'failed';
    ctx.deposit(a, now, asset, usd / ctx.assets[asset].price, ctx.chainFor(asset, rng), status);
  }

  private withdraw(a: Account, now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    const asset = rng.chance(0.7) ? 0 : rng.int(1, 2);
    const bal = a.balances[asset];
    if (bal * ctx.assets[asset].price < 30) return;
    ctx.ensureSession(a, now, false);
    const chain = ctx.chainFor(asset, rng);
    const status = rng.chance(0.96) ? 'completed' : rng.chance(0.7) ? 'pending' : 'rejected';
    ctx.withdrawal(a, now, asset, bal * rng.uniform(0.1, 0.9), chain, ctx.payoutAddress(a, chain), status);
  }

  private transfer(now: number): void {
    const ctx = this.ctx;
    const rng = this.rng;
    if (this.subs.length > 0 && rng.chance(0.85)) {
      const sub = rng.pick(this.subs);
      const master = sub.master!;
      const [from, to] = rng.chance(0.6) ? [master, sub] : [sub, master];
      const bal = from.balances[0];
      if (bal > 20) ctx.transfer(from, to, now, 0, bal * rng.uniform(0.05, 0.5));
      return;
    }
    // Friends settling up: one-off transfers between unrelated accounts.
    const [from, to] = rng.sample(ctx.pop.retail, 2);
    if (from && to && from.balances[0] > 50) ctx.transfer(from, to, now, 0, Math.min(from.balances[0] * 0.5, rng.lognormal(120, 0.8)));
  }
}
