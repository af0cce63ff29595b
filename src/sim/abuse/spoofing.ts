import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import { Scenario, activeTraders, intRange, link, liquidOrThin, loginLinked, num, paramsOf, range, slot, type Injector, type LinkKind } from './common.js';

const START = 1;
const SPOOF = 2;
const EXECUTE = 3;
const CANCEL = 4;
const END = 5;
const LOGIN = 6;

interface Plan {
  market: SimMarket;
  trader: Account;
  /** Places the spoof orders: the trader itself, or a linked account. */
  spoofer: Account;
  links: LinkKind[];
  cycles: number;
  end: number;
}

/**
 * Spoofing: a large order (or two) placed a few levels away from the touch to suggest demand
 * (or supply), while the same actor or a linked account trades on the other side; the large
 * order is cancelled within seconds of that trade. Several cycles per episode.
 */
export class SpoofingScenario extends Scenario<Plan> {
  private cycle = 0;
  private spoofs: EngineOrder[] = [];
  private genuine: EngineOrder | null = null;


  protected step(code: number, _data: unknown, now: number): void {
    const { market: m, trader, spoofer } = this.p;
    const rng = this.rng;
    const eng = m.engine;
    switch (code) {
      case START:
        if (spoofer !== trader) {
          loginLinked(this.ctx, rng, trader, trader, this.p.links, now);
          this.at(now + rng.uniform(500, 30_000), LOGIN);
        }
        this.at(now + rng.uniform(40_000, 90_000), SPOOF);
        return;
      case LOGIN:
        loginLinked(this.ctx, rng, trader, spoofer, this.p.links, now);
        return;
      case SPOOF: {
        if (now > this.p.end - 15_000) return this.step(END, null, now);
        const bid = eng.bestBid();
        const ask = eng.bestAsk();
        if (bid === 0 || ask === 0) return this.at(now + 5_000, SPOOF);
        // Genuine interest sells high: the spoof sits on the bid side (and vice versa).
        const genuineSide: OrderSide = rng.chance(0.5) ? 'sell' : 'buy';
        const spoofSide: OrderSide = genuineSide === 'sell' ? 'buy' : 'sell';
        const gap = Math.max(1, Math.round(m.spec.levelGapBps * 1e-4 * m.refTicks()));
        const away = intRange(this.params, 'levelsAway', rng) * gap + rng.int(0, gap);
        const notional = m.spec.makerLevelNotional * range(this.params, 'sizeMultiple', rng);
        const n = rng.chance(0.3) ? 2 : 1;
        this.spoofs = [];
        for (let i = 0; i < n; i++) {
          const px = spoofSide === 'buy' ? bid - away - i * rng.int(1, gap) : ask + away + i * rng.int(1, gap);
          if (px <= 0) continue;
          this.spoofs.push(this.order(m, spoofer, spoofSide, 'limit', 'GTC', px, this.lots(m, notional / n) * rng.uniform(0.85, 1.15), now, { postOnly: true }));
        }
        this.at(now + range(this.params, 'executeDelayMs', rng), EXECUTE, genuineSide);
        return;
      }
      case EXECUTE: {
        const side = _data as OrderSide;
        const notional = m.spec.makerLevelNotional * range(this.params, 'genuineMultiple', rng);
        const lots = this.lots(m, notional);
        if (rng.chance(num(this.params, 'passiveShare'))) {
          // Joins the touch on its own side and waits to be lifted/hit by those the spoof attracted.
          const px = side === 'sell' ? eng.bestAsk() : eng.bestBid();
          if (px > 0) this.genuine = this.order(m, trader, side, 'limit', 'GTC', px, lots, now, { postOnly: true });
          this.at(now + rng.uniform(700, 4_500), CANCEL);
        } else {
          const px = side === 'sell' ? eng.bestBid() : eng.bestAsk();
          if (px > 0) this.genuine = this.order(m, trader, side, 'limit', 'IOC', px, lots, now);
          this.at(now + range(this.params, 'cancelAfterTradeMs', rng), CANCEL);
        }
        return;
      }
      case CANCEL: {
        for (const o of this.spoofs) this.cancel(o, m, now);
        if (this.genuine) this.cancel(this.genuine, m, now);
        this.spoofs = [];
        this.genuine = null;
        if (++this.cycle < this.p.cycles) this.at(now + rng.uniform(4_000, 40_000), SPOOF);
        else this.at(now + rng.uniform(100, 1_000), END);
        return;
      }
      case END:
        this.cancelAll(now);
        return;
    }
  }
}

export const spoofing: Injector = {
  typology: 'spoofing',
  defaults: {
    /** Spoof size as a multiple of one maker level's notional. */
    sizeMultiple: [4, 14],
    /** Distance from the touch in maker level gaps. */
    levelsAway: [1, 5],
    /** Spoof-to-execution delay. */
    executeDelayMs: [150, 2_500],
    /** Execution-to-cancel delay for aggressive executions. */
    cancelAfterTradeMs: [40, 1_500],
    genuineMultiple: [0.3, 1.5],
    /** Share of executions that rest at the touch instead of crossing. */
    passiveShare: 0.5,
    cycles: [2, 5],
    /** Share of episodes where a linked account places the spoof orders. */
    linkedShare: 0.35,
    liquidShare: 0.7,
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    const traders = activeTraders(ctx);
    for (let i = 0; i < count; i++) {
      const cycles = intRange(p, 'cycles', rng);
      const duration = 90_000 + cycles * 48_000;
      const candidates = liquidOrThin(ctx, rng, p);
      const s = slot(env, candidates, duration);
      if (!s) continue;
      const end = s.start + duration;
      const linked = rng.chance(num(p, 'linkedShare'));
      const accounts = planner.pickAccounts(rng, traders, linked ? 2 : 1, s.start, end);
      if (accounts.length < (linked ? 2 : 1)) continue;
      const [trader, spoofer = trader] = accounts;
      const links = spoofer !== trader ? link(rng, trader, [spoofer], ['device', 'ip', 'api_ip']) : [];
      planner.reserve([s.market.symbol], accounts, s.start, end);
      const ep = env.episode('spoofing', spoofer !== trader ? 'linked_account' : 'single_account', { market: s.market.symbol, cycles, links });
      for (const a of accounts) ep.addAccount(a);
      const sc = new SpoofingScenario(env, rng.fork(`spoof:${i}`), ep, { market: s.market, trader, spoofer, links, cycles, end }, p);
      sc.later(s.start, START);
    }
  },
};
