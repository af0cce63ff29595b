import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { Scenario, activeTraders, intRange, link, loginLinked, paramsOf, pickVariant, range, slot, type Injector, type LinkKind } from './common.js';

const START = 1;
const FUND = 2;
const LOGIN = 3;
const MAKE = 4;
const TAKE = 5;
const TIDY = 6;
const END = 7;

type Variant = 'self_trade' | 'collusive_pair' | 'collusive_ring';

interface Plan {
  market: SimMarket;
  members: Account[];
  variant: Variant;
  links: LinkKind[];
  rounds: number;
  /** Orders go through the API (shared API server) or logged-in sessions (shared device/IP). */
  api: boolean;
  end: number;
}

/**
 * Wash trading. Self-trade: one account crosses its own resting orders with self-trade
 * prevention switched off. Collusive pair/ring: linked accounts (shared device or IP, same API
 * server, or funded by internal transfers) take each other's orders within milliseconds, in a
 * rotation that returns every member's position to about zero. Only the trades between members
 * are labelled; a member's order that a third party happens to hit is labelled, its trade not.
 */
export class WashScenario extends Scenario<Plan> {
  private round = 0;
  private lotsThisCycle = 0;
  private maker: EngineOrder | null = null;
  private retries = 0;
  private makerSide: OrderSide = 'sell';


  private get k(): number {
    return this.p.members.length;
  }

  protected step(code: number, data: unknown, now: number): void {
    const { market: m, members } = this.p;
    const rng = this.rng;
    const eng = m.engine;
    const stp = this.p.variant === 'self_trade' ? 'none' : undefined;
    switch (code) {
      case START: {
        let t = now;
        if (this.p.links.includes('transfer')) for (const b of members.slice(1)) this.at((t += rng.uniform(500, 15_000)), FUND, b);
        if (!this.p.api) for (const b of members) this.at((t += rng.uniform(300, 20_000)), LOGIN, b);
        this.at(t + rng.uniform(5_000, 40_000), MAKE);
        return;
      }
      case FUND: {
        const leader = members[0];
        const usdt = m.spec.makerLevelNotional * 3;
        if (leader.balances[0] < usdt * 2) leader.balances[0] = usdt * 2;
        this.ctx.transfer(leader, data as Account, now, 0, usdt * rng.uniform(0.6, 1.4));
        return;
      }
      case LOGIN:
        loginLinked(this.ctx, rng, members[0], data as Account, this.p.links, now);
        return;
      case MAKE: {
        if (now > this.p.end - 10_000 || this.round >= this.p.rounds) return this.step(END, null, now);
        const bid = eng.bestBid();
        const ask = eng.bestAsk();
        if (bid === 0 || ask === 0) return this.at(now + 2_000, MAKE);
        if (ask - bid < 2 && this.retries++ < 6) return this.at(now + rng.uniform(200, 1_500), MAKE);
        this.retries = 0;
        if (this.round % this.k === 0) {
          // Size and direction are fixed within a rotation so every member ends it flat.
          this.lotsThisCycle = this.lots(m, m.spec.makerLevelNotional * range(this.params, 'sizeMultiple', rng));
          this.makerSide = rng.chance(0.5) ? 'sell' : 'buy';
        }
        const maker = members[this.round % this.k];
        // Inside the spread when there is room, so nobody else is in front of the trade.
        const side = this.makerSide;
        const px = ask - bid >= 2 ? bid + rng.int(1, ask - bid - 1) : side === 'sell' ? ask : bid;
        this.maker = this.order(m, maker, side, 'limit', 'GTC', px, this.lotsThisCycle, now, { stp, api: this.p.api });
        this.at(now + range(this.params, 'takeDelayMs', rng), TAKE, px);
        return;
      }
      case TAKE: {
        const taker = this.k === 1 ? members[0] : members[(this.round + 1) % this.k];
        const px = data as number;
        if (this.maker && this.maker.isLive) this.order(m, taker, this.makerSide === 'sell' ? 'buy' : 'sell', 'limit', 'IOC', px, this.maker.size, now, { stp, api: this.p.api });
        this.round++;
        this.at(now + rng.uniform(100, 2_000), TIDY);
        return;
      }
      case TIDY:
        if (this.maker) this.cancel(this.maker, m, now);
        this.maker = null;
        this.at(now + range(this.params, 'roundGapMs', rng), MAKE);
        return;
      case END:
        this.cancelAll(now);
        return;
    }
  }
}

export const washTrading: Injector = {
  typology: 'wash_trading',
  defaults: {
    /** Share of each variant. */
    variants: { self_trade: 0.35, collusive_pair: 0.35, collusive_ring: 0.3 },
    ringSize: [3, 5],
    /** Trades per episode (rounded to whole rotations for pairs and rings). */
    rounds: [8, 24],
    sizeMultiple: [0.05, 0.6],
    takeDelayMs: [3, 400],
    roundGapMs: [2_000, 25_000],
    /** Market mix: thin alts, perpetuals, liquid spot. */
    marketWeights: { thin: 0.6, perp: 0.25, spot: 0.15 },
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    const mw = p.marketWeights as Record<'thin' | 'perp' | 'spot', number>;
    const traders = activeTraders(ctx);
    for (let i = 0; i < count; i++) {
      const variant = pickVariant<Variant>(rng, p);
      const k = variant === 'self_trade' ? 1 : variant === 'collusive_pair' ? 2 : intRange(p, 'ringSize', rng);
      const rounds = Math.max(k, Math.round(intRange(p, 'rounds', rng) / k) * k);
      // Funding transfers and logins come first (START: up to 15 s and 20 s per member, then up to 40 s),
      // so they get their own budget and every planned round still fits before `end`.
      const setup = 40_000 + k * 35_000;
      const duration = setup + 70_000 + rounds * 16_000;
      const kind = ['thin', 'perp', 'spot'][rng.weightedIndex([mw.thin, mw.perp, mw.spot])];
      const candidates = ctx.markets.filter((m) => (kind === 'thin' ? m.spec.thin : kind === 'perp' ? m.isPerp : !m.isPerp && !m.spec.thin));
      const s = slot(env, candidates, duration);
      if (!s) continue;
      const end = s.start + duration;
      const members = planner.pickAccounts(rng, traders, k, s.start, end);
      if (members.length < k) continue;
      const links = k > 1 ? link(rng, members[0], members.slice(1)) : [];
      const api = k === 1 ? members[0].usesApi : links.includes('api_ip') && members.every((a) => a.usesApi);
      const notional = s.market.spec.makerLevelNotional * 2;
      for (const a of members) {
        if (s.market.isPerp || a.balances[0] < notional) a.balances[0] = Math.max(a.balances[0], notional);
        const base = s.market.asset.index;
        if (!s.market.isPerp) a.balances[base] = Math.max(a.balances[base], notional / s.market.asset.price);
      }
      planner.reserve([s.market.symbol], members, s.start, end);
      const ep = env.episode('wash_trading', variant, { market: s.market.symbol, members: k, rounds, links }, true);
      for (const a of members) ep.addAccount(a);
      const sc = new WashScenario(env, rng.fork(`wash:${i}`), ep, { market: s.market, members, variant, links, rounds, api, end }, p);
      sc.later(s.start, START);
    }
  },
};
