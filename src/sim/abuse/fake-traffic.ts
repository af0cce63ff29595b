import type { EngineOrder, OrderSide } from '../../market/matching-engine.js';
import type { SimMarket } from '../markets.js';
import type { Account, Device } from '../population.js';
import { Scenario, intRange, paramsOf, pickVariant, range, slot, type Injector } from './common.js';

const OPEN = 1;
const LOGIN = 2;
const FUND = 3;
const CHURN = 4;
const TAKE = 5;
const TIDY = 6;
const FARM_TRADE = 7;
const WITHDRAW = 8;
const END = 9;

type Variant = 'volume_churn' | 'bonus_farming';

interface Plan {
  variant: Variant;
  market: SimMarket;
  sybils: Account[];
  operator: Account;
  devices: Device[];
  ips: string[];
  campaignId: string;
  payout: { chain: string; address: string }[];
  openSpreadMs: number;
  activeMs: number;
  end: number;
}

/**
 * Fake traffic from a sybil farm: a burst of young accounts (same referrer, one or two device
 * fingerprints, IPs from one proxy range) that either churn volume among themselves on one market
 * (funded by the operator's internal transfers) or farm a sign-up bonus: collect it, make the few
 * small trades the campaign requires, and withdraw everything to the farm's wallets.
 */
export class FakeTrafficScenario extends Scenario<Plan> {
  private opened = 0;
  private maker: EngineOrder | null = null;
  private makerSide: OrderSide = 'buy';
  private activeUntil = 0;
  private readonly trades = new Map<Account, number>();
  private readonly required = new Map<Account, number>();


  protected step(code: number, data: unknown, now: number): void {
    const { market: m, sybils } = this.p;
    const ctx = this.ctx;
    const rng = this.rng;
    const eng = m.engine;
    const a = data as Account;
    switch (code) {
      case OPEN: {
        const s = sybils[this.opened++];
        ctx.accountOpened(s, now);
        this.ep.touch(Math.floor(now));
        this.at(now + rng.uniform(3_000, 90_000), LOGIN, s);
        if (this.opened < sybils.length) return this.at(now + this.p.openSpreadMs / sybils.length * rng.uniform(0.2, 1.8), OPEN);
        this.activeUntil = now + this.p.activeMs;
        return this.at(now + rng.uniform(60_000, 120_000), this.p.variant === 'volume_churn' ? CHURN : FARM_TRADE);
      }
      case LOGIN: {
        ctx.login(a, now, rng.pick(this.p.devices), rng.pick(this.p.ips), this.p.activeMs + 30 * 60_000);
        return this.at(now + rng.uniform(5_000, 40_000), FUND, a);
      }
      case FUND: {
        this.ep.touch(Math.floor(now));
        if (this.p.variant === 'volume_churn') {
          const usdt = m.spec.makerLevelNotional * range(this.params, 'fundingMultiple', rng);
          ctx.transfer(this.p.operator, a, now, 0, usdt);
          if (!m.isPerp) ctx.transfer(this.p.operator, a, now, m.asset.index, (usdt * 0.5) / m.asset.price);
        } else {
          ctx.bonus(a, now, this.p.campaignId, rng.pick([10, 20, 20, 30, 50]) * rng.uniform(0.9, 1.1));
        }
        return;
      }
      case CHURN: {
        if (now > this.activeUntil || now > this.p.end - 10_000) return this.step(END, null, now);
        const bid = eng.bestBid();
        const ask = eng.bestAsk();
        if (bid === 0 || ask === 0) return this.at(now + 3_000, CHURN);
        const [mk, tk] = rng.sample(sybils, 2);
        this.makerSide = mk.balances[m.asset.index] * m.refPrice() > mk.balances[0] ? 'sell' : 'buy';
        const px = ask - bid >= 2 ? bid + rng.int(1, ask - bid - 1) : this.makerSide === 'sell' ? ask : bid;
        const lots = this.lots(m, m.spec.makerLevelNotional * range(this.params, 'churnMultiple', rng));
        this.maker = this.order(m, mk, this.makerSide, 'limit', 'GTC', px, lots, now, { api: false });
        this.at(now + rng.uniform(20, 900), TAKE, { taker: tk, px });
        return;
      }
      case TAKE: {
        const { taker, px } = data as { taker: Account; px: number };
        if (this.maker && this.maker.isLive) this.order(m, taker, this.makerSide === 'sell' ? 'buy' : 'sell', 'limit', 'IOC', px, this.maker.size, now, { api: false });
        this.at(now + rng.uniform(200, 2_000), TIDY);
        return;
      }
      case TIDY:
        if (this.maker) this.cancel(this.maker, m, now);
        this.maker = null;
        this.at(now + range(this.params, 'churnGapMs', rng), CHURN);
        return;
      case FARM_TRADE: {
        // The campaign's minimum activity: a few small market orders per account.
        if (now > this.p.end - 60_000) return this.step(WITHDRAW, null, now);
        if (this.required.size === 0) for (const s of sybils) this.required.set(s, rng.int(2, 4));
        const need = sybils.filter((s) => (this.trades.get(s) ?? 0) < this.required.get(s)!);
        if (need.length === 0 || now > this.activeUntil) {
          let t = now;
          for (const s of sybils) this.at((t += rng.uniform(2_000, 40_000)), WITHDRAW, s);
          return;
        }
        const s = rng.pick(need);
        const n = this.trades.get(s) ?? 0;
        const side: OrderSide = n % 2 === 0 ? 'buy' : 'sell';
        const notional = Math.min(s.balances[0] * 0.8, rng.uniform(8, 25));
        if (side === 'buy' && notional > 5) this.order(m, s, 'buy', 'market', 'IOC', 0, this.lots(m, notional), now, { api: false });
        else if (side === 'sell' && s.balances[m.asset.index] > 0) {
          const lots = Math.floor(s.balances[m.asset.index] / m.lotValue);
          if (lots > 0) this.order(m, s, 'sell', 'market', 'IOC', 0, lots, now, { api: false });
        }
        this.trades.set(s, n + 1);
        return this.at(now + rng.uniform(5_000, 45_000), FARM_TRADE);
      }
      case WITHDRAW: {
        if (!a) return;
        const w = rng.pick(this.p.payout);
        if (a.balances[0] > 1) {
          ctx.withdrawal(a, now, 0, a.balances[0] * rng.uniform(0.97, 1), w.chain, w.address);
          this.ep.touch(Math.floor(now));
        }
        return;
      }
      case END:
        this.cancelAll(now);
        return;
    }
  }
}

export const fakeTraffic: Injector = {
  typology: 'fake_traffic',
  defaults: {
    variants: { volume_churn: 0.5, bonus_farming: 0.5 },
    sybils: [6, 22],
    /** Time over which the farm's accounts are opened. */
    openMinutes: [3, 15],
    activeMinutes: [6, 18],
    devices: [1, 3],
    fundingMultiple: [1, 3],
    churnMultiple: [0.1, 0.8],
    churnGapMs: [1_500, 12_000],
  },
  plan(env, count) {
    const { ctx, rng, planner } = env;
    const p = paramsOf(this, env);
    for (let i = 0; i < count; i++) {
      const variant = pickVariant<Variant>(rng, p);
      const n = intRange(p, 'sybils', rng);
      const openMs = range(p, 'openMinutes', rng) * 60_000;
      const activeMs = range(p, 'activeMinutes', rng) * 60_000;
      const duration = openMs + 150_000 + activeMs + 90_000;
      // Churn needs room inside the spread (thin markets); bonus hunters trade wherever the campaign counts.
      const candidates = variant === 'volume_churn' ? ctx.thinMarkets : ctx.markets.filter((m) => !m.isPerp);
      const s = slot(env, candidates, duration);
      if (!s) continue;
      const end = s.start + duration;
      const [operator] = planner.pickAccounts(rng, ctx.pop.retail, 1, s.start, end);
      if (!operator) continue;
      // The farm's shared infrastructure: a few devices and one or two proxy ranges.
      const country = ctx.pop.country();
      const devices = Array.from({ length: intRange(p, 'devices', rng) }, () => ctx.pop.device(rng.pick(['web', 'android'] as const)));
      const base = ctx.ids.ip(country);
      const ips = [base, ...Array.from({ length: rng.int(2, 6) }, () => ctx.ids.neighbourIp(base))];
      const referrer = rng.chance(0.7) ? operator.id : undefined;
      const sybils: Account[] = [];
      for (let k = 0; k < n; k++) {
        const a = ctx.pop.create('sybil', rng.chance(0.8) ? country : ctx.pop.country());
        a.kycLevel = rng.chance(0.6) ? 0 : 1;
        a.referrerId = referrer;
        a.devices.length = 0;
        a.devices.push(rng.pick(devices));
        a.ips.length = 0;
        a.ips.push(rng.pick(ips));
        a.apiKeyId = undefined;
        sybils.push(a);
      }
      const chain = ctx.chainFor(0, rng);
      const payout = Array.from({ length: rng.int(1, 2) }, () => ({ chain, address: ctx.ids.address(chain) }));
      if (variant === 'volume_churn') {
        operator.balances[0] = Math.max(operator.balances[0], s.market.spec.makerLevelNotional * 4 * n);
        if (!s.market.isPerp) operator.balances[s.market.asset.index] = Math.max(operator.balances[s.market.asset.index], (s.market.spec.makerLevelNotional * 2 * n) / s.market.asset.price);
      }
      planner.reserve([s.market.symbol], [operator, ...sybils], s.start, end);
      const ep = env.episode('fake_traffic', variant, { market: s.market.symbol, sybils: n, devices: devices.length }, variant === 'volume_churn');
      for (const a of sybils) ep.addAccount(a);
      if (variant === 'volume_churn') ep.addAccount(operator);
      const sc = new FakeTrafficScenario(
        env, rng.fork(`sybil:${i}`), ep,
        { variant, market: s.market, sybils, operator, devices, ips, campaignId: ctx.ids.campaign(), payout, openSpreadMs: openMs, activeMs, end },
        p,
      );
      sc.later(s.start, OPEN);
    }
  },
};
