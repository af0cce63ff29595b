import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, plural, time } from './format.js';

/**
 * Fake traffic from sybil farms: many young accounts behind the same devices or IPs that either
 * trade with each other (volume churn) or collect sign-up bonuses and withdraw them (bonus farming).
 *
 * Clusters: an account is young for `youngMs` after its `account.opened`. Young accounts that log in
 * from the same device fingerprint or the same IP address are joined (union-find, so A–B by device
 * and B–C by IP put A, B, C together). Accounts opened before the window (or never seen opening)
 * never join, so households and offices of established users sharing an IP do not form clusters.
 * A cluster alone is not an alert; it needs at least `minCluster` members AND one behaviour:
 *  - churn (variant volume_churn): at least `minChurnTrades` trades in one market whose maker and
 *    taker are both in the cluster;
 *  - bonus farming (variant bonus_farming): at least `minFarmers` members that received a bonus
 *    and then withdrew or transferred funds out, or at least `minSharedPayout` members withdrawing
 *    to the same address.
 *
 * Every partition sees the account-level events (logins, openings, bonuses, withdrawals), so all hold
 * the same clusters; bonus-farming alerts are raised only by the partition that owns the cluster's
 * founder (its earliest-opened member), churn alerts by the partition of the market.
 *
 * Score: 50 + 5·log2(cluster size / minCluster) + 10·log2(behaviour count / its minimum), capped at 100.
 */
export const fakeTrafficParams = z.object({
  ...baseParams,
  episodeGapMs: z.number().int().positive().default(900_000).describe('an episode closes after this much event time (ms) without new evidence'),
  youngMs: z.number().int().positive().default(3 * 86_400_000).describe('an account counts as young this long after account.opened'),
  minCluster: z.number().int().min(2).default(4).describe('young accounts sharing devices/IPs needed for a farm'),
  minChurnTrades: z.number().int().positive().default(3).describe('trades between members of one cluster in one market (volume churn)'),
  minFarmers: z.number().int().positive().default(3).describe('members with bonus then withdrawal/transfer out (bonus farming)'),
  minSharedPayout: z.number().int().min(2).default(3).describe('members withdrawing to the same address (bonus farming)'),
  maxAccounts: z.number().int().positive().default(1_000_000).describe('memory bound on tracked young accounts'),
});
export type FakeTrafficParams = z.output<typeof fakeTrafficParams>;

interface Young {
  id: string;
  opened: number;
  parent: Young;
  size: number;
  founder: Young;
  members: string[];
  bonus: boolean;
  farmed: boolean;
  farmers: number;
  churn: Map<string, number>;
}

class FakeTrafficDetector implements Detector {
  readonly name = 'fake_traffic';
  readonly typology = 'fake_traffic' as const;
  readonly eventTypes = ['account.opened', 'login', 'api_key.used', 'bonus.granted', 'withdrawal', 'transfer.internal', 'trade'] as const;
  readonly onEventTypes = ['account.opened', 'login', 'api_key.used', 'bonus.granted', 'withdrawal', 'transfer.internal'] as const;
  readonly afterEventTypes = ['trade'] as const;
  readonly policy: EpisodePolicy;
  private readonly young = new Map<string, Young>();
  private readonly byDevice = new Map<string, Young>();
  private readonly byIp = new Map<string, Young>();
  private readonly payout = new Map<string, Set<string>>();

  constructor(private readonly p: FakeTrafficParams) {
    this.policy = policyFrom(p);
  }

  private find(a: Young): Young {
    while (a.parent !== a) {
      a.parent = a.parent.parent;
      a = a.parent;
    }
    return a;
  }

  private get(id: string, ts: number): Young | undefined {
    const y = this.young.get(id);
    if (y === undefined) return undefined;
    if (ts - y.opened > this.p.youngMs) return undefined;
    return y;
  }

  private union(a: Young, b: Young): Young {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return ra;
    if (ra.size < rb.size) [ra, rb] = [rb, ra];
    rb.parent = ra;
    ra.size += rb.size;
    for (const m of rb.members) ra.members.push(m);
    rb.members = [];
    ra.farmers += rb.farmers;
    for (const [k, v] of rb.churn) ra.churn.set(k, (ra.churn.get(k) ?? 0) + v);
    const fa = ra.founder;
    const fb = rb.founder;
    ra.founder = fb.opened < fa.opened || (fb.opened === fa.opened && fb.id < fa.id) ? fb : fa;
    return ra;
  }

  private link(map: Map<string, Young>, key: string, y: Young, ts: number): void {
    const other = map.get(key);
    if (other === undefined || ts - other.opened > this.p.youngMs) map.set(key, y);
    else if (other !== y) this.union(other, y);
  }

  onEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    switch (ev.type) {
      case 'account.opened': {
        if (this.young.has(ev.accountId) || this.young.size >= this.p.maxAccounts) return;
        const y = { id: ev.accountId, opened: ctx.ts, size: 1, members: [ev.accountId], bonus: false, farmed: false, farmers: 0, churn: new Map() } as unknown as Young;
        y.parent = y;
        y.founder = y;
        this.young.set(ev.accountId, y);
        return;
      }
      case 'login':
      case 'api_key.used': {
        if (ev.type === 'login' && ev.success === false) return;
        const y = this.get(ev.accountId, ctx.ts);
        if (y === undefined) return;
        if (ev.type === 'login' && ev.deviceId !== '') this.link(this.byDevice, ev.deviceId, y, ctx.ts);
        if (ev.ip !== '') this.link(this.byIp, ev.ip, y, ctx.ts);
        return;
      }
      case 'bonus.granted': {
        const y = this.get(ev.accountId, ctx.ts);
        if (y !== undefined) y.bonus = true;
        return;
      }
      case 'withdrawal':
      case 'transfer.internal': {
        const id = ev.type === 'withdrawal' ? ev.accountId : ev.fromAccountId;
        const y = this.get(id, ctx.ts);
        if (y === undefined) return;
        const r = this.find(y);
        let shared = 0;
        if (ev.type === 'withdrawal') {
          let s = this.payout.get(ev.address);
          if (s === undefined) this.payout.set(ev.address, (s = new Set()));
          s.add(id);
          for (const a of s) {
            const o = this.get(a, ctx.ts);
            if (o !== undefined && this.find(o) === r) shared++;
          }
        }
        if (y.bonus && !y.farmed) {
          y.farmed = true;
          r.farmers++;
        }
        if (r.size < this.p.minCluster) return;
        if (r.farmers < this.p.minFarmers && shared < this.p.minSharedPayout) return;
        if (!ctx.ownsAccount(r.founder.id)) return;
        const ep = ctx.alerts.episode(this, `farm\u0000${r.founder.id}`, ev);
        ep.variant ??= 'bonus_farming';
        for (const a of r.members) ep.addAccount(a);
        ep.data.cluster = r.size;
        ep.data.farmers = r.farmers;
        ep.data.sharedPayout = Math.max(ep.data.sharedPayout ?? 0, shared);
        const beh = Math.max(r.farmers / this.p.minFarmers, shared / this.p.minSharedPayout);
        const score = 50 + 5 * Math.log2(r.size / this.p.minCluster) + 10 * Math.log2(Math.max(1, beh));
        if (ep.offer(Math.min(100, score))) {
          ep.feature('young_accounts_sharing_devices_or_ips', r.size, this.p.minCluster, '>=');
          ep.feature('bonus_then_withdrawal_members', r.farmers, this.p.minFarmers, '>=');
          ep.feature('members_withdrawing_to_same_address', ep.data.sharedPayout, this.p.minSharedPayout, '>=');
        }
        ep.notes.founderOpened = time(r.founder.opened);
        ctx.alerts.commit(ep, ctx.ts);
        return;
      }
      default:
        return;
    }
  }

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    if (ev.type !== 'trade') return;
    const e = ev as EventOf<'trade'>;
    const mk = ctx.trade.maker;
    const tk = ctx.trade.taker;
    if (mk === undefined || tk === undefined || mk === tk) return;
    const a = this.get(mk, ctx.ts);
    if (a === undefined) return;
    const b = this.get(tk, ctx.ts);
    if (b === undefined) return;
    const r = this.find(a);
    if (r !== this.find(b)) return;
    const n = (r.churn.get(e.market) ?? 0) + 1;
    r.churn.set(e.market, n);
    if (r.size < this.p.minCluster || n < this.p.minChurnTrades) return;
    const ep = ctx.alerts.episode(this, `churn\u0000${r.founder.id}\u0000${e.market}`, e);
    ep.variant ??= 'volume_churn';
    ep.addMarket(e.market).addTrade(e.tradeId);
    for (const x of r.members) ep.addAccount(x);
    ep.data.cluster = r.size;
    ep.data.churn = n;
    ep.data.notional = (ep.data.notional ?? 0) + ctx.px * ctx.sz;
    const score = 50 + 5 * Math.log2(r.size / this.p.minCluster) + 10 * Math.log2(n / this.p.minChurnTrades);
    if (ep.offer(Math.min(100, score))) {
      ep.feature('young_accounts_sharing_devices_or_ips', r.size, this.p.minCluster, '>=');
      ep.feature('trades_within_cluster', n, this.p.minChurnTrades, '>=');
    }
    ep.notes.founderOpened = time(r.founder.opened);
    ctx.alerts.commit(ep, ctx.ts);
  }

  explain(ep: Episode): string {
    const d = ep.data;
    const who = `${plural(d.cluster ?? ep.accounts.length, 'young account')} (first opened ${ep.notes.founderOpened ?? '?'}) sharing devices or IPs`;
    if (ep.variant === 'volume_churn')
      return `${who} traded ${plural(d.churn ?? 0, 'time')} with each other in ${ep.markets.join(', ')} (notional ${num(d.notional ?? 0)}): a sybil farm churning volume.`;
    return `${who}: ${plural(d.farmers ?? 0, 'member')} withdrew or moved funds out after receiving a sign-up bonus, and up to ${num(d.sharedPayout ?? 0, 0)} withdrew to the same address — a bonus-farming sybil farm.`;
  }
}

export const fakeTraffic = defineDetector({
  name: 'fake_traffic',
  typology: 'fake_traffic',
  variant: 'sybil_farm',
  description: 'Sybil farms: clusters of young accounts sharing devices or IPs that churn volume among themselves or farm sign-up bonuses and withdraw them.',
  citation: 'Sybil detection by shared infrastructure and coordinated behaviour (e.g. SybilRank, Cao et al. NSDI 2012; "Uncovering large groups of active malicious accounts", Cao et al. CCS 2014); FATF red-flag indicators for virtual assets (2020), account-creation and bonus abuse',
  params: fakeTrafficParams,
  enabledByDefault: true,
  create: (p) => new FakeTrafficDetector(p),
});
