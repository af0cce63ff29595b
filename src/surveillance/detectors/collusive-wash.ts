import { z } from 'zod';
import type { EventOf, ExchangeEvent } from '../../events/schema.js';
import { baseParams, defineDetector, policyFrom, type Detector, type DetectorContext, type EpisodePolicy } from '../detector.js';
import type { Episode } from '../emitter.js';
import { num, plural, time } from './format.js';

/**
 * Wash trading, variants collusive_pair and collusive_ring: two or more accounts that trade the
 * same quantity round among themselves so that each ends (about) flat — volume without any change
 * in who holds the asset.
 *
 * Method (Victor & Weintraud, WWW 2021): per market, over a sliding window of `windowMs`, the
 * directed flow graph seller → buyer of trades between distinct, known accounts. Every
 * `evalEveryMs` of event time (a watermark timer, so the per-trade cost is an append), the graph
 * restricted to repeated relationships (pairs with at least `minEdgeTrades` trades in the window) is
 * split into strongly connected components (Tarjan); a component of 2…`maxMembers` accounts is a
 * ring when volume matches: every member's net position over the component's own trades is within
 * `tolerance` of zero (|bought − sold| ≤ tolerance · max(bought, sold)), with at least `minTrades`
 * trades and `minNotional` quote notional inside it. A component that fails is peeled (the member
 * furthest from flat is removed and the rest re-split), so an honest counterparty in the same
 * component does not hide the ring. One episode per market × member set; it grows while the ring is
 * found again.
 *
 * Score: 50 + 8·log2(trades / minTrades) + 20·(1 − worst net ratio / tolerance)
 * + 10 when every member did at least `minEdgeTrades` trades in both directions, capped at 100.
 */
export const collusiveWashParams = z.object({
  ...baseParams,
  episodeGapMs: z.number().int().positive().default(600_000).describe('an episode closes after this much event time (ms) without the ring being found again'),
  windowMs: z.number().int().positive().default(600_000).describe('sliding window of trades forming the flow graph (ms of event time)'),
  evalEveryMs: z.number().int().positive().default(15_000).describe('how often (event time) each market with new trades is evaluated'),
  minEdgeTrades: z.number().int().positive().default(2).describe('a pair of accounts needs this many trades with each other (either direction) in the window to enter the graph'),
  minPairShare: z.number().min(0).max(1).default(0.2).describe('a pair enters the graph only if its volume (both directions) is at least this share of each side’s window volume'),
  minConcentration: z.number().min(0).max(1).default(0.85).describe('every member must do at least this share of its window volume in the market inside the ring'),
  minSizeMatch: z.number().min(0).max(1).default(0.6).describe('share of the ring volume each side bought and sold back in identical sizes (trade-by-trade volume matching; separates rings from groups of market makers trading mostly with each other)'),
  minTrades: z.number().int().positive().default(4).describe('trades inside the component before it can be a ring'),
  minNotional: z.number().nonnegative().default(0).describe('quote notional inside the component before it can be a ring'),
  maxMembers: z.number().int().min(2).default(8).describe('largest ring considered (larger components are peeled)'),
  tolerance: z.number().positive().max(1).default(0.3).describe('largest |net| / max(bought, sold) a member may have within the ring'),
  maxTradesPerMarket: z.number().int().positive().default(50_000).describe('memory bound on window trades per market'),
});
export type CollusiveWashParams = z.output<typeof collusiveWashParams>;

export interface WTrade {
  ts: number;
  seller: string;
  buyer: string;
  size: number;
  notional: number;
  tradeId: string;
}

interface MarketState {
  trades: WTrade[];
  head: number;
  dirty: boolean;
  nextEval: number;
}

interface Edge {
  count: number;
  size: number;
  notional: number;
  ids: string[];
  last: number;
}

export interface Ring {
  members: string[];
  trades: number;
  notional: number;
  volume: number;
  worstNet: number;
  concentration: number;
  sizeMatch: number;
  bothWays: boolean;
  tradeIds: string[];
  start: number;
  end: number;
}

/** Tarjan's strongly connected components of a small directed graph (nodes 0..n-1). */
function scc(n: number, adj: number[][]): number[][] {
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const on = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const out: number[][] = [];
  let idx = 0;
  // iterative Tarjan
  for (let s = 0; s < n; s++) {
    if (index[s] !== -1) continue;
    const work: [number, number][] = [[s, 0]];
    index[s] = low[s] = idx++;
    stack.push(s);
    on[s] = true;
    while (work.length > 0) {
      const top = work[work.length - 1];
      const v = top[0];
      if (top[1] < adj[v].length) {
        const w = adj[v][top[1]++];
        if (index[w] === -1) {
          index[w] = low[w] = idx++;
          stack.push(w);
          on[w] = true;
          work.push([w, 0]);
        } else if (on[w]) low[v] = Math.min(low[v], index[w]);
      } else {
        work.pop();
        if (work.length > 0) {
          const u = work[work.length - 1][0];
          low[u] = Math.min(low[u], low[v]);
        }
        if (low[v] === index[v]) {
          const comp: number[] = [];
          for (;;) {
            const w = stack.pop()!;
            on[w] = false;
            comp.push(w);
            if (w === v) break;
          }
          out.push(comp);
        }
      }
    }
  }
  return out;
}

/** Rings (SCC + volume matching + peeling) among window trades; exported for tests. */
export function findRings(trades: readonly WTrade[], p: Pick<CollusiveWashParams, 'minPairShare' | 'minConcentration' | 'minSizeMatch' | 'minEdgeTrades' | 'minTrades' | 'minNotional' | 'maxMembers' | 'tolerance'>): Ring[] {
  const edges = new Map<string, Edge>();
  for (const t of trades) {
    const k = `${t.seller}\u0000${t.buyer}`;
    let e = edges.get(k);
    if (e === undefined) edges.set(k, (e = { count: 0, size: 0, notional: 0, ids: [], last: 0 }));
    e.count++;
    e.size += t.size;
    e.notional += t.notional;
    if (e.ids.length < 50) e.ids.push(t.tradeId);
    e.last = t.ts;
  }
  // each account's total traded volume in the window, and each unordered pair's
  const total = new Map<string, number>();
  for (const t of trades) {
    total.set(t.seller, (total.get(t.seller) ?? 0) + t.size);
    total.set(t.buyer, (total.get(t.buyer) ?? 0) + t.size);
  }
  const pairVol = (a: string, b: string) => (edges.get(`${a}\u0000${b}`)?.size ?? 0) + (edges.get(`${b}\u0000${a}`)?.size ?? 0);
  const kept: [string, string, Edge][] = [];
  for (const [k, e] of edges) {
    const i = k.indexOf('\u0000');
    const a = k.slice(0, i);
    const b = k.slice(i + 1);
    if (e.count + (edges.get(`${b}\u0000${a}`)?.count ?? 0) < p.minEdgeTrades) continue;
    // a relationship that is a real share of BOTH sides' trading (a market maker's countless
    // counterparties are each a sliver of its volume)
    const pv = pairVol(a, b);
    if (pv < p.minPairShare * total.get(a)! || pv < p.minPairShare * total.get(b)!) continue;
    kept.push([a, b, e]);
  }
  if (kept.length < 2) return [];
  const rings: Ring[] = [];
  let nodes = new Set<string>();
  for (const [a, b] of kept) nodes.add(a).add(b);
  const queue: string[][] = [[...nodes].sort()];
  let guard = 0;
  while (queue.length > 0 && guard++ < 200) {
    const set = new Set(queue.pop()!);
    const names = [...set].sort();
    const at = new Map(names.map((x, i) => [x, i]));
    const adj: number[][] = names.map(() => []);
    for (const [a, b] of kept) if (set.has(a) && set.has(b)) adj[at.get(a)!].push(at.get(b)!);
    for (const comp of scc(names.length, adj)) {
      if (comp.length < 2) continue;
      const members = comp.map((i) => names[i]).sort();
      const inSet = new Set(members);
      const bought = new Map<string, number>();
      const sold = new Map<string, number>();
      const outEdges = new Map<string, number>();
      const inEdges = new Map<string, number>();
      let count = 0;
      let notional = 0;
      let volume = 0;
      const ids: string[] = [];
      let start = Infinity;
      let end = -Infinity;
      for (const [a, b, e] of kept) {
        if (!inSet.has(a) || !inSet.has(b)) continue;
        sold.set(a, (sold.get(a) ?? 0) + e.size);
        bought.set(b, (bought.get(b) ?? 0) + e.size);
        outEdges.set(a, (outEdges.get(a) ?? 0) + e.count);
        inEdges.set(b, (inEdges.get(b) ?? 0) + e.count);
        count += e.count;
        notional += e.notional;
        volume += e.size;
        for (const id of e.ids) if (ids.length < 100) ids.push(id);
        end = Math.max(end, e.last);
      }
      for (const t of trades) if (inSet.has(t.seller) && inSet.has(t.buyer)) { start = t.ts; break; }
      let worst = 0;
      let worstM = members[0];
      for (const m of members) {
        const bo = bought.get(m) ?? 0;
        const so = sold.get(m) ?? 0;
        const r = Math.abs(bo - so) / Math.max(bo, so, 1e-300);
        if (r > worst) {
          worst = r;
          worstM = m;
        }
      }
      // size matching: the share of the members' ring volume bought and sold back in equal sizes
      const bySize = new Map<string, number>();
      for (const t of trades) {
        if (!inSet.has(t.seller) || !inSet.has(t.buyer)) continue;
        const kb = `${t.buyer}\u0000${t.size}`;
        const ks = `${t.seller}\u0000${t.size}`;
        bySize.set(kb, (bySize.get(kb) ?? 0) + 1);
        bySize.set(ks, (bySize.get(ks) ?? 0) - 1);
      }
      let unmatched = 0;
      for (const [k, c] of bySize) if (c !== 0) unmatched += Math.abs(c) * +k.slice(k.indexOf('\u0000') + 1);
      const sizeMatch = volume > 0 ? Math.max(0, 1 - unmatched / (2 * volume)) : 0;
      let conc = 1;
      for (const m of members) conc = Math.min(conc, ((bought.get(m) ?? 0) + (sold.get(m) ?? 0)) / Math.max(total.get(m) ?? 0, 1e-300));
      if (members.length <= p.maxMembers && worst <= p.tolerance) {
        if (count >= p.minTrades && notional >= p.minNotional && conc >= p.minConcentration && sizeMatch >= p.minSizeMatch) {
          const bothWays = members.every((m) => (outEdges.get(m) ?? 0) >= p.minEdgeTrades && (inEdges.get(m) ?? 0) >= p.minEdgeTrades);
          rings.push({ members, trades: count, notional, volume, worstNet: worst, concentration: conc, sizeMatch, bothWays, tradeIds: ids, start, end });
        }
        continue;
      }
      // peel: drop the member furthest from flat and re-split the rest
      if (members.length > 2) queue.push(members.filter((m) => m !== worstM));
    }
  }
  nodes = new Set();
  return rings;
}

class CollusiveWashDetector implements Detector {
  readonly name = 'collusive_wash';
  readonly typology = 'wash_trading' as const;
  readonly eventTypes = ['trade'] as const;
  readonly policy: EpisodePolicy;
  private readonly markets = new Map<string, MarketState>();
  private readonly dirty: string[] = [];

  constructor(private readonly p: CollusiveWashParams) {
    this.policy = policyFrom(p);
  }

  onEvent(): void {}

  afterEvent(ev: ExchangeEvent, ctx: DetectorContext): void {
    const e = ev as EventOf<'trade'>;
    const maker = ctx.trade.maker;
    const taker = ctx.trade.taker;
    const side = ctx.trade.takerSide;
    if (maker === undefined || taker === undefined || maker === taker || side === undefined) return;
    let m = this.markets.get(e.market);
    if (m === undefined) this.markets.set(e.market, (m = { trades: [], head: 0, dirty: false, nextEval: NaN }));
    const size = +e.size;
    const seller = side === 'buy' ? maker : taker;
    const buyer = side === 'buy' ? taker : maker;
    m.trades.push({ ts: e.ts, seller, buyer, size, notional: size * +e.price, tradeId: e.tradeId });
    if (m.trades.length - m.head > this.p.maxTradesPerMarket) m.head++;
    if (!m.dirty) {
      m.dirty = true;
      // evaluation times are multiples of evalEveryMs: independent of how often watermarks arrive
      m.nextEval = (Math.floor(e.ts / this.p.evalEveryMs) + 1) * this.p.evalEveryMs;
      this.dirty.push(e.market);
    }
  }

  onWatermark(t: number, ctx: DetectorContext): void {
    if (this.dirty.length === 0) return;
    let keep = 0;
    for (let i = 0; i < this.dirty.length; i++) {
      const market = this.dirty[i];
      const m = this.markets.get(market)!;
      if (m.nextEval > t) {
        this.dirty[keep++] = market;
        continue;
      }
      m.dirty = false;
      this.evaluate(market, m, m.nextEval, ctx);
    }
    this.dirty.length = keep;
  }

  private evaluate(market: string, m: MarketState, at: number, ctx: DetectorContext): void {
    const from = at - this.p.windowMs;
    while (m.head < m.trades.length && m.trades[m.head].ts <= from) m.head++;
    if (m.head > 4096 && m.head * 2 > m.trades.length) {
      m.trades = m.trades.slice(m.head);
      m.head = 0;
    }
    const win: WTrade[] = [];
    let after = false;
    for (let i = m.head; i < m.trades.length; i++) {
      const tr = m.trades[i];
      if (tr.ts >= at) {
        after = true;
        break;
      }
      win.push(tr);
    }
    if (after) {
      // trades after this evaluation time are waiting: evaluate again at the next step
      m.dirty = true;
      m.nextEval = at + this.p.evalEveryMs;
      this.dirty.push(market);
    }
    if (win.length < this.p.minTrades) return;
    for (const r of findRings(win, this.p)) this.report(market, r, at, ctx);
  }

  private report(market: string, r: Ring, at: number, ctx: DetectorContext): void {
    const key = `${market}\u0000${r.members.join('\u0000')}`;
    const ep = ctx.alerts.episode(this, key, { id: `${key}@${r.start}`, ts: r.start });
    if (ep.variant === undefined) ep.variant = r.members.length === 2 ? 'collusive_pair' : 'collusive_ring';
    if (r.end > ep.endTime) ep.endTime = r.end;
    ep.addMarket(market);
    for (const a of r.members) ep.addAccount(a);
    for (const id of r.tradeIds) ep.addTrade(id);
    const d = ep.data;
    d.members = r.members.length;
    d.trades = Math.max(d.trades ?? 0, r.trades);
    d.notional = Math.max(d.notional ?? 0, r.notional);
    d.volume = Math.max(d.volume ?? 0, r.volume);
    d.worstNet = r.worstNet;
    const score = 50 + 8 * Math.log2(Math.max(1, r.trades / this.p.minTrades)) + 20 * (1 - r.worstNet / this.p.tolerance) + (r.bothWays ? 10 : 0);
    if (ep.offer(Math.min(100, score))) {
      ep.feature('ring_members', r.members.length, 2, '>=');
      ep.feature('trades_inside_ring', r.trades, this.p.minTrades, '>=');
      ep.feature('worst_member_net_ratio', r.worstNet, this.p.tolerance, '<=');
      ep.feature('min_member_volume_share_inside_ring', r.concentration, this.p.minConcentration, '>=');
      ep.feature('volume_matched_in_equal_sizes', r.sizeMatch, this.p.minSizeMatch, '>=');
      ep.feature('ring_notional', r.notional, this.p.minNotional, '>=', 'quote');
      ep.feature('window_ms', this.p.windowMs, 0, '>', 'ms');
    }
    ep.notes.firstTrade ??= time(r.start);
    ctx.alerts.commit(ep, Math.max(r.end, ep.endTime));
    void at;
  }

  explain(ep: Episode): string {
    const n = ep.accounts.length;
    const kind = n === 2 ? 'pair' : `ring of ${n}`;
    return `A ${kind} of accounts (${ep.accounts.join(', ')}) traded ${plural(ep.data.trades ?? 0, 'time')} among themselves in ${ep.markets.join(', ')} (volume ${num(ep.data.volume ?? 0, 8)}, notional ${num(ep.data.notional ?? 0)}) within a ${num(this.p.windowMs / 60_000, 1)}-minute window, and every member's net position from those trades is within ${num((ep.data.worstNet ?? 0) * 100, 1)}% of flat — volume that changed no beneficial ownership.`;
  }
}

export const collusiveWash = defineDetector({
  name: 'collusive_wash',
  typology: 'wash_trading',
  variant: 'collusive_ring',
  description: 'Pairs and rings of accounts trading among themselves with matched volumes (every member ends flat): SCCs of the per-window trade-flow graph with volume matching.',
  citation: 'Victor & Weintraud, "Detecting and Quantifying Wash Trading on Decentralized Cryptocurrency Exchanges", WWW 2021; US CEA §4c(a)(2)(A)(i); EU MAR Annex I 1(a)',
  params: collusiveWashParams,
  enabledByDefault: true,
  create: (p) => new CollusiveWashDetector(p),
});
