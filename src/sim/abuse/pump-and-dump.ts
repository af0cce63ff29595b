import type { EngineOrder } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { Scenario, activeTraders, intRange, link, loginLinked, num, paramsOf, range, slot, type Injector, type LinkKind } from './common.js';

const START = 1;
const FUND = 2;
const LOGIN = 3;
const ACCUMULATE = 4;
const PUMP = 5;
const DUMP = 6;
const END = 7;

interface Plan {
  market: SimMarket;
  group: Account[];
  links: LinkKind[];
  accumulateMs: number;
  pumpRounds: number;
  holdMs: number;
  dumpMs: number;
  end: number;
}

/**
 * Pump and dump on a thin market: a coordinated group (funded by one leader and/or behind the same
 * proxy range) optionally accumulates quietly with passive bids, then buys in bursts of "rush
 * orders" (several members at the same millisecond), waits while the move draws in momentum and
 * retail buyers, then sells everything into them.
 */
export class PumpScenario extends Scenario<Plan> {
  private readonly bought = new Map<Account, EngineOrder[]>();
  private round = 0;
  private dumpUntil = 0;
  private pumpStart = 0;


  private track(a: Account, o: EngineOrder): void {
    let l = this.bought.get(a);
    if (!l) this.bought.set(a, (l = []));
    l.push(o);
  }

  protected step(code: number, data: unknown, now: number): void {
    const { market: m, group } = this.p;
    const rng = this.rng;
    const eng = m.engine;
    const level = m.spec.makerLevelNotional;
    switch (code) {
      case START: {
        let t = now;
        if (this.p.links.includes('transfer')) for (const b of group.slice(1)) this.at((t += rng.uniform(1_000, 20_000)), FUND, b);
        for (const b of group) this.at((t += rng.uniform(500, 15_000)), LOGIN, b);
        t += rng.uniform(2_000, 10_000);
        if (this.p.accumulateMs > 0) {
          this.at(t, ACCUMULATE);
          t += this.p.accumulateMs;
        }
        this.pumpStart = t;
        this.at(t, PUMP);
        return;
      }
      case FUND:
        this.ctx.transfer(group[0], data as Account, now, 0, level * rng.uniform(6, 14));
        return;
      case LOGIN:
        loginLinked(this.ctx, rng, group[0], data as Account, this.p.links, now);
        return;
      case ACCUMULATE: {
        if (now >= this.pumpStart - 3_000) return;
        const a = rng.pick(group);
        const bid = eng.bestBid();
        if (bid > 0) {
          const px = bid - rng.int(0, 2);
          const o = this.order(m, a, 'buy', 'limit', 'GTC', px, this.lots(m, level * range(this.params, 'accumulateMultiple', rng)), now, { api: false });
          this.track(a, o);
        }
        this.at(now + rng.uniform(4_000, 30_000), ACCUMULATE);
        return;
      }
      case PUMP: {
        if (this.round === 0) {
          this.cancelAll(now); // unfilled accumulation bids are withdrawn before the burst
          this.ep.onset = Math.floor(now); // the pump starts here: funding, logins and passive accumulation precede it
        }
        // A rush: several members fire market buys in the same millisecond.
        const n = Math.max(2, Math.round(group.length * rng.uniform(0.4, 1)));
        for (const a of rng.sample(group, n)) {
          const o = this.order(m, a, 'buy', 'market', 'IOC', 0, this.lots(m, level * range(this.params, 'pumpOrderMultiple', rng)), now, { api: false });
          this.track(a, o);
        }
        if (++this.round < this.p.pumpRounds) this.at(now + range(this.params, 'pumpGapMs', rng), PUMP);
        else {
          this.dumpUntil = now + this.p.holdMs + this.p.dumpMs;
          this.at(now + this.p.holdMs, DUMP);
        }
        return;
      }
      case DUMP: {
        const holders = group.filter((a) => this.holding(a) > 0);
        if (holders.length === 0 || now > this.p.end - 5_000) return this.step(END, null, now);
        const a = rng.pick(holders);
        // Re-price: a resting offer left behind by the falling market is pulled first.
        for (const o of this.sold.get(a) ?? []) this.cancel(o, m, now);
        const left = this.holding(a);
        if (left <= 0) return this.at(now + rng.uniform(500, 3_000), DUMP);
        const remainingSteps = Math.max(1, (this.dumpUntil - now) / 8_000);
        const lots = now >= this.dumpUntil ? left : Math.min(left, Math.ceil((left / remainingSteps) * rng.uniform(1, 3)));
        if (rng.chance(0.55)) {
          const bid = eng.bestBid();
          if (bid > 0) this.sell(a, this.order(m, a, 'sell', 'limit', 'IOC', Math.max(1, bid - rng.int(0, 3)), lots, now, { api: false }));
        } else {
          const ask = eng.bestAsk();
          if (ask > 0) this.sell(a, this.order(m, a, 'sell', 'limit', 'GTC', ask, lots, now, { api: false }));
        }
        this.at(now + rng.uniform(2_000, 14_000), DUMP);
        return;
      }
      case END:
        this.cancelAll(now);
        return;
    }
  }

  private readonly sold = new Map<Account, EngineOrder[]>();

  private sell(a: Account, o: EngineOrder): void {
    let l = this.sold.get(a);
    if (!l) this.sold.set(a, (l = []));
    l.push(o);
  }

  /** Lots bought minus lots sold or offered (live sell orders count as committed). */
  private holding(a: Account): number {
    let n = 0;
    for (const o of this.bought.get(a) ?? []) n += o.filled;
    for (const o of this.sold.get(a) ?? []) n -= o.isLive ? o.total : o.filled;
    return n;
  }
}

export const pumpAndDump: Injector = {
  typology: 'pump_and_dump',
  defaults: {
    groupSize: [3, 8],
    accumulateShare: 0.6,
    accumulateMinutes: [2, 7],
    accumulateMultiple: [0.3, 1.2],
    pumpRounds: [4, 14],
    /** Each rush order's notional as a multiple of one maker level. */
    pumpOrderMultiple: [0.6, 2.5],
    pumpGapMs: [300, 6_000],
    holdSeconds: [15, 90],
    dumpMinutes: [1.5, 5],
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    const traders = activeTraders(ctx).concat(ctx.pop.retail.filter((a) => a.activity < 1.5).slice(0, 400));
    for (let i = 0; i < count; i++) {
      const accumulateMs = rng.chance(num(p, 'accumulateShare')) ? range(p, 'accumulateMinutes', rng) * 60_000 : 0;
      const pumpRounds = intRange(p, 'pumpRounds', rng);
      const holdMs = range(p, 'holdSeconds', rng) * 1000;
      const dumpMs = range(p, 'dumpMinutes', rng) * 60_000;
      const duration = 110_000 + accumulateMs + pumpRounds * 6_000 + holdMs + dumpMs + 60_000;
      const s = slot(env, ctx.thinMarkets, duration);
      if (!s) continue;
      const end = s.start + duration;
      const group = planner.pickAccounts(rng, traders, intRange(p, 'groupSize', rng), s.start, end);
      if (group.length < 3) continue;
      const links = link(rng, group[0], group.slice(1), ['transfer', 'ip', 'device']);
      // Members not funded by the leader bring their own money.
      for (const a of group) a.balances[0] = Math.max(a.balances[0], s.market.spec.makerLevelNotional * 12);
      planner.reserve([s.market.symbol], group, s.start, end);
      const ep = env.episode('pump_and_dump', accumulateMs > 0 ? 'accumulate_pump_dump' : 'pump_dump', { market: s.market.symbol, group: group.length, pumpRounds, links });
      for (const a of group) ep.addAccount(a);
      const sc = new PumpScenario(env, rng.fork(`pump:${i}`), ep, { market: s.market, group, links, accumulateMs, pumpRounds, holdMs, dumpMs, end }, p);
      sc.later(s.start, START);
    }
  },
};
