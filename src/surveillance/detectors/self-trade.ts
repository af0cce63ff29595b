import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, plural, time } from './format.js';
import { pairKey } from '../../stream/keyed.js';

/**
 * Wash trading, variant self_trade: trades in which one account is on both sides.
 *
 * A trade is a self-trade when its maker and taker accounts are the same (from the event, or
 * resolved from the L3 book and recent market orders), or when the venue flags it `selfTrade`.
 * A self-trade transfers no beneficial ownership; it only prints volume and price. One episode per
 * account × market (per market when the venue flags self-trades without naming accounts) grows
 * while self-trades keep coming within `episodeGapMs`.
 *
 * Score: 45 + 10·log2(1 + count / minTrades) + 20·(share of the account's traded volume in the
 * market that was self-traded), capped at 100; the alert opens once `minTrades` and `minNotional`
 * are reached and, below `confirmTrades` self-trades, the self-traded share is at least `minorShare`
 * (an isolated self-match by an account that mostly trades with others is usually accidental).
 * `minTrades` is 2: a single self-match, even by an account with no other volume in the market (share
 * 1), is one print that self-trade prevention missed, not wash trading; on dev seeds 17 and 18 such
 * one-trade episodes were the detector's only false alerts, and every labelled self-trade scenario
 * on seeds 11–18 has 7 or more self-trades.
 *
 * Method: the "wash sale" of the US Commodity Exchange Act §4c(a)(2)(A)(i) and EU MAR Annex I
 * 1(a) (transactions with no change in beneficial interest); self-match detection as in exchange
 * self-trade-prevention rulebooks (e.g. CME Rule 534, Binance STP). Collusive pairs/rings are a
 * separate variant (Victor & Weintraud, "Detecting and Quantifying Wash Trading on Decentralized
 * Cryptocurrency Exchanges", WWW 2021).
 */
export const selfTradeParams = z.object({
  ...baseParams,
  minTrades: z.number().int().positive().default(2).describe('self-trades in an episode before the alert opens: one self-match is what a venue’s self-trade prevention misses once (even for an account with no other trades), not a pattern'),
  confirmTrades: z.number().int().positive().default(3).describe('below this many self-trades the alert also needs minorShare: an isolated self-match by an account that mostly trades with others is usually accidental (STP off)'),
  minorShare: z.number().min(0).max(1).default(0.5).describe('self-traded share of the account’s volume in the market that lets fewer than confirmTrades self-trades alert'),
  minNotional: z.number().nonnegative().default(0).describe('quote notional of the episode’s self-trades before the alert opens'),
  trustVenueFlag: z.boolean().default(true).describe('treat trades the venue flags selfTrade as self-trades even without account ids'),
});
export type SelfTradeParams = z.output<typeof selfTradeParams>;

class SelfTradeDetector implements Detector {
  readonly name = 'self_trade';
  readonly typology = 'wash_trading' as const;
  readonly eventTypes = ['trade'] as const;
  readonly onEventTypes = [] as const;
  readonly policy: EpisodePolicy;
  constructor(private readonly p: SelfTradeParams) {
    this.policy = policyFrom(p);
  }

  onEvent(): void {}

  /** After the state update, so the account's volume includes this trade. */
  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    const e = ev as EventOf<'trade'>;
    const maker = ctx.trade.maker;
    const sameAccount = maker !== undefined && maker === ctx.trade.taker;
    const flagged = e.selfTrade === true && this.p.trustVenueFlag;
    if (!sameAccount && !flagged) return;
    const account = sameAccount ? maker : (e.makerAccountId ?? e.takerAccountId);
    const key = account === undefined ? e.market : pairKey(account, e.market);
    const ep = ctx.alerts.episode(this, key, e);
    if (ep.variant === undefined) ep.variant = 'self_trade';
    ep.addMarket(e.market).addAccount(account).addTrade(e.tradeId).addOrder(e.makerOrderId).addOrder(e.takerOrderId);
    const d = ep.data;
    const notional = ctx.px * ctx.sz;
    d.count = (d.count ?? 0) + 1;
    d.flagged = (d.flagged ?? 0) + (e.selfTrade === true ? 1 : 0);
    d.notional = (d.notional ?? 0) + notional;
    d.volume = (d.volume ?? 0) + ctx.sz;
    const am = account !== undefined ? ctx.flow.accountMarket(account, e.market) : undefined;
    // Self-traded share of the account's volume here (a self-trade counts on both sides of its flow).
    const share = am !== undefined && am.volume > 0 ? Math.min(1, (2 * d.volume) / am.volume) : NaN;
    const confirmed = d.count >= this.p.confirmTrades || !Number.isFinite(share) || share >= this.p.minorShare;
    const qualifies = d.count >= this.p.minTrades && d.notional >= this.p.minNotional && confirmed;
    const score = qualifies ? 45 + 10 * Math.log2(1 + d.count / this.p.minTrades) + 20 * (Number.isFinite(share) ? share : 0) : 0;
    if (ep.offer(score)) {
      ep.feature('self_trades', d.count, this.p.minTrades, '>=');
      ep.feature('self_trade_notional', d.notional, this.p.minNotional, '>=', 'quote');
      if (Number.isFinite(share)) ep.feature('self_traded_share_of_volume', share, 0, '>');
      if (d.flagged > 0) ep.feature('venue_flagged_self_trades', d.flagged, 0, '>');
    }
    ep.notes.firstPrice ??= e.price;
    ep.notes.lastPrice = e.price;
    ctx.alerts.commit(ep, ctx.ts);
  }

  explain(ep: Episode): string {
    const n = ep.data.count ?? 0;
    const who = ep.accounts.length > 0 ? `Account ${ep.accounts.join(', ')}` : 'An unnamed account (venue self-trade flag)';
    const share = ep.get('self_traded_share_of_volume');
    const shareText = share !== undefined ? `, ${num(share.value * 100, 1)}% of its volume there` : '';
    const flagged = ep.data.flagged ?? 0;
    const flagText = flagged > 0 ? `; the venue flagged ${num(flagged, 0)} of them` : '';
    const span = ep.endTime > ep.startTime ? `between ${time(ep.startTime)} and ${time(ep.endTime)}` : `at ${time(ep.startTime)}`;
    return `${who} traded with itself ${plural(n, 'time')} in ${ep.markets.join(', ')} ${span} (volume ${num(ep.data.volume ?? 0, 8)}, notional ${num(ep.data.notional ?? 0)}${shareText}${flagText}), which changes no beneficial ownership.`;
  }
}

export const selfTrade = defineDetector({
  name: 'self_trade',
  typology: 'wash_trading',
  variant: 'self_trade',
  description: 'Trades whose maker and taker are the same account, or that the venue flags as self-trades.',
  citation: 'US Commodity Exchange Act §4c(a)(2)(A)(i) (wash sales); EU MAR Art. 12(1)(a) and Annex I 1(a); CME Rule 534; Victor & Weintraud, WWW 2021',
  params: selfTradeParams,
  enabledByDefault: true,
  create: (p) => new SelfTradeDetector(p),
});
