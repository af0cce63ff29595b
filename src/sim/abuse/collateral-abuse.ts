import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { Scenario, activeTraders, intRange, link, paramsOf, range, slot, type Injector, type LinkKind } from './common.js';

const PUMP = 1;
const BORROW = 2;
const WITHDRAW = 3;
const END = 4;

interface Plan {
  market: SimMarket;
  actor: Account;
  helpers: Account[];
  links: LinkKind[];
  pushes: number;
  pushGapMs: number;
  /** Units of the alt the actor pledges. */
  pledge: number;
  loanId: string;
  end: number;
}

/**
 * Collateral abuse: an actor holding a thin, collateral-eligible altcoin pumps its price (alone or
 * with linked helpers), then pledges the alt and borrows USDT against the inflated valuation at
 * close to the maximum loan-to-value, and withdraws the borrowed USDT. When the price reverts the
 * loan is under-collateralised. The pump orders are labelled; the loan id is in the params.
 */
export class CollateralAbuseScenario extends Scenario<Plan> {
  private pushed = 0;


  protected step(code: number, _data: unknown, now: number): void {
    const { market: m, actor } = this.p;
    const ctx = this.ctx;
    const rng = this.rng;
    const eng = m.engine;
    switch (code) {
      case PUMP: {
        const who = this.p.helpers.length > 0 && rng.chance(0.4) ? rng.pick(this.p.helpers) : actor;
        const ask = eng.bestAsk();
        const lots = this.lots(m, m.spec.makerLevelNotional * range(this.params, 'pushMultiple', rng));
        if (ask > 0) {
          const reach = Math.max(1, Math.round(rng.uniform(1, 4) * m.spec.levelGapBps * 1e-4 * ask));
          const market = rng.chance(0.3);
          this.order(m, who, 'buy', market ? 'market' : 'limit', 'IOC', market ? 0 : ask + reach, lots, now, { api: who.usesApi });
        }
        if (++this.pushed < this.p.pushes) return this.at(now + this.p.pushGapMs * rng.uniform(0.3, 1.7), PUMP);
        return this.at(now + range(this.params, 'borrowDelayMs', rng), BORROW);
      }
      case BORROW: {
        const asset = m.asset;
        // The venue values collateral at its own (inflated) last price.
        const price = (eng.lastPrice || m.refTicks()) * m.tickValue;
        const ltv = asset.spec.maxLtv * rng.uniform(0.9, 0.99);
        ctx.ensureSession(actor, now, false);
        ctx.collateralChanged(actor, now, this.p.loanId, asset.index, this.p.pledge, 'add');
        ctx.loanBorrow(actor, now, this.p.loanId, 0, this.p.pledge * price * ltv, 'collateral_loan', { asset: asset.index, amount: this.p.pledge, ltv, apr: rng.uniform(0.06, 0.15) });
        this.ep.touch(Math.floor(now));
        this.ep.params.borrowed = Math.round(this.p.pledge * price * ltv);
        return this.at(now + range(this.params, 'withdrawDelayMs', rng), WITHDRAW);
      }
      case WITHDRAW: {
        const chain = ctx.chainFor(0, rng);
        const amount = Math.min(actor.balances[0], (this.ep.params.borrowed as number) * rng.uniform(0.9, 1));
        if (amount > 0) ctx.withdrawal(actor, now, 0, amount, chain, ctx.payoutAddress(actor, chain));
        this.ep.touch(Math.floor(now));
        return this.step(END, null, now);
      }
      case END:
        this.cancelAll(now);
        return;
    }
  }
}

export const collateralAbuse: Injector = {
  typology: 'collateral_abuse',
  defaults: {
    pushes: [6, 18],
    pushSeconds: [45, 240],
    pushMultiple: [1.2, 4],
    /** Value of the pledged alt, in maker levels of the market, at the pre-pump price. */
    pledgeMultiple: [15, 60],
    helpers: [0, 2],
    borrowDelayMs: [3_000, 60_000],
    withdrawDelayMs: [30_000, 400_000],
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    const markets = ctx.thinMarkets.filter((m) => m.asset.spec.collateral);
    const traders = activeTraders(ctx);
    for (let i = 0; i < count; i++) {
      const pushes = intRange(p, 'pushes', rng);
      const pushMs = range(p, 'pushSeconds', rng) * 1000;
      const duration = pushMs * 1.4 + 60_000 + 400_000 + 30_000;
      const s = slot(env, markets, duration);
      if (!s) continue;
      const end = s.start + duration;
      const accounts = planner.pickAccounts(rng, traders, 1 + intRange(p, 'helpers', rng), s.start, end);
      if (accounts.length === 0) continue;
      const [actor, ...helpers] = accounts;
      const links = helpers.length > 0 ? link(rng, actor, helpers, ['device', 'ip', 'api_ip']) : [];
      const m = s.market;
      const pledge = (m.spec.makerLevelNotional * range(p, 'pledgeMultiple', rng)) / m.asset.price;
      actor.balances[m.asset.index] = Math.max(actor.balances[m.asset.index], pledge * 1.1);
      for (const a of accounts) a.balances[0] = Math.max(a.balances[0], m.spec.makerLevelNotional * pushes * 3);
      planner.reserve([m.symbol], accounts, s.start, end);
      const loanId = ctx.ids.loan();
      const ep = env.episode('collateral_abuse', helpers.length > 0 ? 'with_helpers' : 'single_account', { market: m.symbol, collateralAsset: m.asset.symbol, loanId, pushes, links });
      for (const a of accounts) ep.addAccount(a);
      const sc = new CollateralAbuseScenario(env, rng.fork(`coll:${i}`), ep, { market: m, actor, helpers, links, pushes, pushGapMs: pushMs / pushes, pledge, loanId, end }, p);
      sc.later(s.start, PUMP);
    }
  },
};
