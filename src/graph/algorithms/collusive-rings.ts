import { buildCsr, stronglyConnectedComponents, Interner, UnionFind } from '../csr.js';
import { flowRecords, type EntityGraph } from '../entity-graph.js';

/**
 * Collusive trading rings, after Victor & Weintraud, "Detecting and Quantifying Wash Trading on
 * Decentralized Cryptocurrency Exchanges" (WWW 2021): in each market and time window, build the
 * directed flow graph seller → buyer; candidate rings are its strongly connected components (the
 * asset went round and came back); a candidate is a ring when volume matches, i.e. every member's net
 * position over the window returns to near zero (|bought − sold| ≤ tolerance · max(bought, sold)).
 * A candidate that fails is peeled: the member furthest from flat is removed and the rest re-checked,
 * so an honest counterparty caught in the same SCC does not hide the ring.
 *
 * Optional filters sharpen it for live surveillance (all off by default): a pair enters the flow graph
 * only when it traded often enough and is a real share of both sides' volume (a market maker's many
 * counterparties are each a sliver of its flow); members must do most of their volume inside the
 * ring; and the volume must come back in identical sizes (trade-by-trade matching).
 *
 * `collusiveRingsInWindow` judges one window (the wash-trading detector calls it on its sliding
 * window); `detectCollusiveRings` slides windows overlapping by half (step = window / 2) so a ring
 * straddling a boundary is seen whole, and reports the same ring in consecutive windows once.
 */
export interface RingTrade {
  ts: number;
  seller: string;
  buyer: string;
  /** Base quantity. */
  qty: number;
  /** Quote value (notional); defaults to qty. */
  value?: number;
  market?: string | null;
  tradeId?: string;
  /** Trades aggregated into this record (1 for a single trade). */
  count?: number;
}

export interface CollusiveRingOptions {
  /** Window length, ms of event time. Default 1 hour. */
  windowMs?: number;
  /** Window step; default windowMs / 2. */
  stepMs?: number;
  /** Smallest ring. Default 2 (a collusive pair). */
  minMembers?: number;
  /** Largest ring; larger candidates are peeled. Default unbounded. */
  maxMembers?: number;
  /** Fewest trades inside the ring in the window. Default 3. */
  minTrades?: number;
  /** Largest |net| / max(bought, sold) a member may have. Default 0.05. */
  tolerance?: number;
  /** A pair enters the flow graph with at least this many trades between them (both directions). Default 1. */
  minPairTrades?: number;
  /** …and only if its volume (both directions) is at least this share of each side's window volume. Default 0. */
  minPairShare?: number;
  /** Every member does at least this share of its window volume inside the ring. Default 0. */
  minConcentration?: number;
  /** Share of the ring volume bought and sold back in identical sizes (0..1). Default 0. */
  minSizeMatch?: number;
  /** Quote value inside the ring. Default 0. */
  minValue?: number;
  /** Most trade ids kept per pair and per ring as evidence. Default 50. */
  maxTradeIds?: number;
  /**
   * Each account's base volume (bought + sold) in the whole window, for callers that pass only part
   * of the window's trades (collusiveRingsInWindow only): pair shares and concentrations are then
   * taken against it. Without it, the volume of the trades given.
   */
  windowVolume?: (account: string) => number;
  /** Bound on candidates examined per window (peeling steps included). Default 10,000. */
  maxCandidates?: number;
  /**
   * Whether two accounts are tied (shared device, IP, address, internal transfers: e.g. GraphLinks).
   * Given, it turns on two things: a cycle none of whose members is tied to another must end within
   * `unlinkedTolerance`, and tied accounts trading mostly among themselves are reported without a
   * cycle (kind 'linked', see `minLinkedConcentration`).
   */
  tied?: (a: string, b: string) => boolean;
  /** Flatness an untied cycle needs (with `tied`). Default: `tolerance`. */
  unlinkedTolerance?: number;
  /** With `tied`: every member of a linked group did at least this share of its window volume inside it. Default 0.3. */
  minLinkedConcentration?: number;
}

export interface RingMember {
  account: string;
  bought: number;
  sold: number;
  net: number;
  /** |net| / max(bought, sold): 0 = perfectly flat. */
  netRatio: number;
}

export interface CollusiveRing {
  id: number;
  /** 'cycle': an SCC of the flow whose members end flat; 'linked': tied accounts trading mostly among themselves. */
  kind: 'cycle' | 'linked';
  market: string | null;
  /** Window start (detectCollusiveRings) or first ring trade (collusiveRingsInWindow). */
  start: number;
  end: number;
  /** Event times of the first and last trade between members. */
  firstTrade: number;
  lastTrade: number;
  members: RingMember[];
  /** Flows between members, seller → buyer. */
  edges: { from: string; to: string; qty: number; value: number; trades: number }[];
  trades: number;
  /** Base volume traded inside the ring. */
  volume: number;
  value: number;
  tradeIds: string[];
  /** Windows in which the ring was found. */
  windows: number;
  /** The largest member netRatio. */
  worstNetRatio: number;
  /** The smallest share of a member's window volume done inside the ring. */
  concentration: number;
  /** Share of the ring volume bought and sold back in identical sizes (per record for aggregated input). */
  sizeMatch: number;
  /** The fewest trades any member did inside the ring in its weaker direction (buying or selling). */
  minDirectionTrades: number;
  /** Share of members tied to another member (only computed with the `tied` option; else 0). */
  linkedShare: number;
  /** 0..1: how flat the members ended (1 − worst netRatio / tolerance, floored at 0), scaled by size. */
  score: number;
  reason: string;
}

/** Pair keys s · 2^26 + d stay exact in a double for up to 67M accounts per window. */
const PAIR_KEY = 67_108_864;

interface Agg {
  qty: number;
  value: number;
  trades: number;
}

interface Resolved {
  minMembers: number;
  maxMembers: number;
  minTrades: number;
  tol: number;
  minPairTrades: number;
  minPairShare: number;
  minConcentration: number;
  minSizeMatch: number;
  minValue: number;
  maxIds: number;
  maxCandidates: number;
  windowVolume?: (account: string) => number;
  tied?: (a: string, b: string) => boolean;
  unlinkedTolerance: number;
  minLinkedConcentration: number;
}

function resolve(opts: CollusiveRingOptions): Resolved {
  return {
    minMembers: Math.max(2, opts.minMembers ?? 2),
    maxMembers: opts.maxMembers ?? Infinity,
    minTrades: opts.minTrades ?? 3,
    tol: opts.tolerance ?? 0.05,
    minPairTrades: opts.minPairTrades ?? 1,
    minPairShare: opts.minPairShare ?? 0,
    minConcentration: opts.minConcentration ?? 0,
    minSizeMatch: opts.minSizeMatch ?? 0,
    minValue: opts.minValue ?? 0,
    maxIds: opts.maxTradeIds ?? 50,
    maxCandidates: opts.maxCandidates ?? 10_000,
    windowVolume: opts.windowVolume,
    tied: opts.tied,
    unlinkedTolerance: opts.unlinkedTolerance ?? opts.tolerance ?? 0.05,
    minLinkedConcentration: opts.minLinkedConcentration ?? 0.3,
  };
}

/** Rings among these trades taken as one window (any order; self-trades ignored). Deterministic. */
export function collusiveRingsInWindow(trades: readonly RingTrade[], opts: CollusiveRingOptions = {}): CollusiveRing[] {
  const list = trades.filter((t) => t.seller !== t.buyer).sort((a, b) => a.ts - b.ts);
  const rings = ringsInWindow(list, 0, list.length, resolve(opts));
  for (const r of rings) {
    r.market = list.find((t) => t.market != null)?.market ?? null;
    r.start = r.firstTrade;
    r.end = r.lastTrade;
  }
  return sortRings(rings);
}

/** Rings per market and sliding window. The function a wash-trading review calls with the trades it holds. Deterministic. */
export function detectCollusiveRings(trades: readonly RingTrade[], opts: CollusiveRingOptions = {}): CollusiveRing[] {
  const windowMs = opts.windowMs ?? 3_600_000;
  const stepMs = opts.stepMs ?? Math.max(1, Math.floor(windowMs / 2));
  const o: Resolved = { ...resolve(opts), windowVolume: undefined };

  const byMarket = new Map<string, RingTrade[]>();
  for (const t of trades) {
    if (t.seller === t.buyer) continue;
    const m = t.market ?? '';
    let list = byMarket.get(m);
    if (!list) byMarket.set(m, (list = []));
    list.push(t);
  }
  const found: CollusiveRing[] = [];
  for (const market of [...byMarket.keys()].sort()) {
    const list = byMarket.get(market)!.slice().sort((a, b) => a.ts - b.ts);
    if (list.length === 0) continue;
    const first = Math.floor(list[0].ts / stepMs) * stepMs - (windowMs - stepMs);
    const last = list[list.length - 1].ts;
    let lo = 0;
    // Previous window's rings by member set, for merging consecutive finds.
    let open = new Map<string, CollusiveRing>();
    for (let start = first; start <= last; start += stepMs) {
      const end = start + windowMs;
      while (lo < list.length && list[lo].ts < start) lo++;
      let hi = lo;
      while (hi < list.length && list[hi].ts < end) hi++;
      const next = new Map<string, CollusiveRing>();
      if (hi - lo >= 2) {
        for (const ring of ringsInWindow(list, lo, hi, o)) {
          const key = ring.members.map((m) => m.account).join('\u0001');
          const prev = open.get(key);
          ring.market = market === '' ? null : market;
          ring.start = start;
          ring.end = end;
          if (prev) {
            mergeInto(prev, ring, o.maxIds, o.tol);
            next.set(key, prev);
          } else {
            found.push(ring);
            next.set(key, ring);
          }
        }
      }
      open = next;
      // Skip empty stretches.
      if (hi === lo && lo < list.length && list[lo].ts >= end + stepMs) start = Math.floor((list[lo].ts - windowMs) / stepMs) * stepMs;
    }
  }
  return sortRings(found);
}

function sortRings(found: CollusiveRing[]): CollusiveRing[] {
  found.sort((a, b) => b.score - a.score || b.volume - a.volume || a.start - b.start || (a.members[0].account < b.members[0].account ? -1 : 1));
  found.forEach((r, i) => (r.id = i));
  return found;
}

/** The flow graph of list[lo, hi) after the pair filters, as parallel arrays of directed pairs. */
interface Flow {
  names: Interner;
  /** Per account: base volume bought + sold in the window (all trades). */
  total: number[];
  /** Interned seller and buyer of list[lo + i]. */
  sellerOf: Int32Array;
  buyerOf: Int32Array;
  src: number[];
  dst: number[];
  agg: Agg[];
}

/** Every directed pair of list[lo, hi) with its aggregate, in first-trade order (one pass; both filters derive from it). */
interface Pairs {
  names: Interner;
  total: number[];
  sellerOf: Int32Array;
  buyerOf: Int32Array;
  /** Pair key -> aggregate; keys s · stride + d. */
  map: Map<number, Agg>;
  stride: number;
}

function pairsOf(list: readonly RingTrade[], lo: number, hi: number, o: Resolved): Pairs {
  const names = new Interner();
  const total: number[] = [];
  const sellerOf = new Int32Array(hi - lo);
  const buyerOf = new Int32Array(hi - lo);
  for (let i = lo; i < hi; i++) {
    const t = list[i];
    const s = names.id(t.seller);
    const d = names.id(t.buyer);
    sellerOf[i - lo] = s;
    buyerOf[i - lo] = d;
    total[s] = (total[s] ?? 0) + t.qty;
    total[d] = (total[d] ?? 0) + t.qty;
  }
  if (o.windowVolume !== undefined) for (let u = 0; u < names.size; u++) total[u] = o.windowVolume(names.keys[u]);
  // Small integer keys hash fastest; the stride is the account count when its square stays small.
  const stride = names.size <= 32_768 ? Math.max(1, names.size) : PAIR_KEY;
  const map = new Map<number, Agg>();
  for (let i = lo; i < hi; i++) {
    const t = list[i];
    const key = sellerOf[i - lo] * stride + buyerOf[i - lo];
    let a = map.get(key);
    if (!a) map.set(key, (a = { qty: 0, value: 0, trades: 0 }));
    a.qty += t.qty;
    a.value += t.value ?? t.qty;
    a.trades += t.count ?? 1;
  }
  return { names, total, sellerOf, buyerOf, map, stride };
}

function flowGraph(p: Pairs, o: Resolved, share: boolean): Flow {
  const { names, total, map, stride } = p;
  const src: number[] = [];
  const dst: number[] = [];
  const agg: Agg[] = [];
  const minShare = share ? o.minPairShare : 0;
  const filtered = o.minPairTrades > 1 || minShare > 0;
  for (const [key, a] of map) {
    const s = Math.floor(key / stride);
    const d = key - s * stride;
    if (filtered) {
      const back = map.get(d * stride + s);
      if (a.trades + (back?.trades ?? 0) < o.minPairTrades) continue;
      const pv = a.qty + (back?.qty ?? 0);
      if (pv < minShare * total[s] || pv < minShare * total[d]) continue;
    }
    src.push(s);
    dst.push(d);
    agg.push(a);
  }
  return { names, total, sellerOf: p.sellerOf, buyerOf: p.buyerOf, src, dst, agg };
}

/**
 * Groups of tied accounts trading among themselves: accounts joined by pairs that traded at least
 * `minPairTrades` times in the window and that `tied(a, b)` says share something, where every member
 * did at least `minLinkedConcentration` of its window volume inside the group (tied pairs' trades
 * only). No cycle or flat ending is required: the tie is the prior evidence a cycle would otherwise
 * have to supply. Components larger than `maxMembers` are left alone.
 */
function linkedInWindow(list: readonly RingTrade[], lo: number, hi: number, o: Resolved, tied: (a: string, b: string) => boolean, pairs: Pairs): CollusiveRing[] {
  const f = flowGraph(pairs, o, false);
  const n = f.names.size;
  const uf = new UnionFind(n);
  const tiedPair = new Set<number>();
  for (let k = 0; k < f.src.length; k++) {
    const s = Math.min(f.src[k], f.dst[k]);
    const d = Math.max(f.src[k], f.dst[k]);
    const key = s * PAIR_KEY + d;
    if (tiedPair.has(key) || !tied(f.names.keys[s], f.names.keys[d])) continue;
    tiedPair.add(key);
    uf.union(s, d);
  }
  if (tiedPair.size === 0) return [];
  // Keep only the tied pairs' flows, so trades with an untied counterparty do not count as inside.
  const kept: Flow = { ...f, src: [], dst: [], agg: [] };
  for (let k = 0; k < f.src.length; k++) {
    if (!tiedPair.has(Math.min(f.src[k], f.dst[k]) * PAIR_KEY + Math.max(f.src[k], f.dst[k]))) continue;
    kept.src.push(f.src[k]);
    kept.dst.push(f.dst[k]);
    kept.agg.push(f.agg[k]);
  }
  const groups = new Map<number, number[]>();
  for (let u = 0; u < n; u++) {
    const size = uf.sizeOf(u);
    if (size < o.minMembers || size > o.maxMembers) continue;
    const r = uf.find(u);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(u);
  }
  const inSet = new Uint8Array(n);
  const out: CollusiveRing[] = [];
  for (const members of groups.values()) {
    for (const u of members) inSet[u] = 1;
    const ring = makeRing(members, kept, list, lo, hi, inSet, o, 'linked');
    for (const u of members) inSet[u] = 0;
    ring.linkedShare = 1;
    if (ring.trades >= o.minTrades && ring.concentration >= o.minLinkedConcentration && ring.value >= o.minValue) out.push(ring);
  }
  return out;
}

/** Share of members tied to another member. */
function tiedShare(members: readonly RingMember[], tied: (a: string, b: string) => boolean): number {
  let n = 0;
  for (const m of members) if (members.some((x) => x !== m && tied(m.account, x.account))) n++;
  return members.length ? n / members.length : 0;
}

function ringsInWindow(list: readonly RingTrade[], lo: number, hi: number, o: Resolved): CollusiveRing[] {
  const pairs = pairsOf(list, lo, hi, o);
  const cycles = cyclesInWindow(list, lo, hi, o, pairs);
  const tied = o.tied;
  if (!tied) return cycles;
  const out: CollusiveRing[] = [];
  const seen = new Set<string>();
  for (const r of cycles) {
    r.linkedShare = tiedShare(r.members, tied);
    // Untied accounts need the stronger evidence: a near-exact flat ending.
    if (r.linkedShare === 0 && r.worstNetRatio > o.unlinkedTolerance) continue;
    seen.add(r.members.map((m) => m.account).join('\u0001'));
    out.push(r);
  }
  for (const g of linkedInWindow(list, lo, hi, o, tied, pairs)) if (!seen.has(g.members.map((m) => m.account).join('\u0001'))) out.push(g);
  return out;
}

function cyclesInWindow(list: readonly RingTrade[], lo: number, hi: number, o: Resolved, pairs: Pairs): CollusiveRing[] {
  const f = flowGraph(pairs, o, true);
  if (f.src.length < 2) return [];
  const n = f.names.size;
  const scc = stronglyConnectedComponents(buildCsr(n, f.src, f.dst));
  const groups = new Map<number, number[]>();
  for (let u = 0; u < n; u++) {
    if (scc.sizes[scc.labels[u]] < o.minMembers) continue;
    let g = groups.get(scc.labels[u]);
    if (!g) groups.set(scc.labels[u], (g = []));
    g.push(u);
  }
  const out: CollusiveRing[] = [];
  const stack = [...groups.values()];
  const inSet = new Uint8Array(n);
  const bought = new Float64Array(n);
  const sold = new Float64Array(n);
  let examined = 0;
  while (stack.length && examined++ < o.maxCandidates) {
    const members = stack.pop()!;
    if (members.length < o.minMembers) continue;
    for (const u of members) {
      inSet[u] = 1;
      bought[u] = 0;
      sold[u] = 0;
    }
    let trades = 0;
    for (let k = 0; k < f.src.length; k++) {
      const s = f.src[k];
      const d = f.dst[k];
      if (!inSet[s] || !inSet[d]) continue;
      sold[s] += f.agg[k].qty;
      bought[d] += f.agg[k].qty;
      trades += f.agg[k].trades;
    }
    let worst = -1;
    let worstRatio = -1;
    for (const u of members) {
      const r = Math.abs(bought[u] - sold[u]) / Math.max(bought[u], sold[u], 1e-300);
      if (r > worstRatio || (r === worstRatio && f.names.keys[u] > f.names.keys[worst])) {
        worstRatio = r;
        worst = u;
      }
    }
    if (trades >= o.minTrades && worstRatio <= o.tol && members.length <= o.maxMembers) {
      // The ring's concentration as makeRing computes it (same sums, same order): skip building a ring it drops.
      let concentration = 1;
      for (const u of members) concentration = Math.min(concentration, (bought[u] + sold[u]) / Math.max(f.total[u], 1e-300));
      if (concentration < o.minConcentration) {
        for (const u of members) inSet[u] = 0;
        continue;
      }
      const ring = makeRing(members, f, list, lo, hi, inSet, o);
      if (ring.concentration >= o.minConcentration && ring.sizeMatch >= o.minSizeMatch && ring.value >= o.minValue) out.push(ring);
    } else if (trades >= o.minTrades && members.length - 1 >= o.minMembers) {
      // Peel the member furthest from flat and look again at what still cycles.
      stack.push(...subComponents(members.filter((u) => u !== worst), f));
    }
    for (const u of members) inSet[u] = 0;
  }
  return out;
}

/** SCCs of the flow graph restricted to `rest`. */
function subComponents(rest: number[], f: Flow): number[][] {
  const local = new Map<number, number>();
  rest.forEach((u, i) => local.set(u, i));
  const rs: number[] = [];
  const rd: number[] = [];
  for (let k = 0; k < f.src.length; k++) {
    const s = local.get(f.src[k]);
    const d = local.get(f.dst[k]);
    if (s !== undefined && d !== undefined) {
      rs.push(s);
      rd.push(d);
    }
  }
  const sub = stronglyConnectedComponents(buildCsr(rest.length, rs, rd));
  const sg = new Map<number, number[]>();
  rest.forEach((u, i) => {
    const l = sub.labels[i];
    let g = sg.get(l);
    if (!g) sg.set(l, (g = []));
    g.push(u);
  });
  return [...sg.values()];
}

function makeRing(members: number[], f: Flow, list: readonly RingTrade[], lo: number, hi: number, inSet: Uint8Array, o: Resolved, kind: 'cycle' | 'linked' = 'cycle'): CollusiveRing {
  const names = f.names.keys;
  const acc = new Map<number, { b: number; s: number; bt: number; st: number }>();
  for (const u of members) acc.set(u, { b: 0, s: 0, bt: 0, st: 0 });
  const edges: CollusiveRing['edges'] = [];
  const ids: string[] = [];
  let trades = 0;
  let volume = 0;
  let value = 0;
  for (let k = 0; k < f.src.length; k++) {
    const s = f.src[k];
    const d = f.dst[k];
    if (!inSet[s] || !inSet[d]) continue;
    const a = f.agg[k];
    const as = acc.get(s)!;
    const ad = acc.get(d)!;
    as.s += a.qty;
    as.st += a.trades;
    ad.b += a.qty;
    ad.bt += a.trades;
    edges.push({ from: names[s], to: names[d], qty: a.qty, value: a.value, trades: a.trades });
    trades += a.trades;
    volume += a.qty;
    value += a.value;
    // The pair's trade ids in trade order, collected here (a found ring is rare) rather than per pair for every window.
    for (let i = lo; i < hi && ids.length < o.maxIds; i++) if (f.sellerOf[i - lo] === s && f.buyerOf[i - lo] === d && list[i].tradeId) ids.push(list[i].tradeId!);
  }
  edges.sort((x, y) => (x.from < y.from ? -1 : x.from > y.from ? 1 : x.to < y.to ? -1 : 1));
  // Trade-by-trade volume matching and the ring's first/last trade: every trade between members.
  // Net count per (member, size), in first-seen order (the sum below adds in that order); sizes get
  // dense ids so the key is an integer, not a string built per trade.
  const sizeId = new Map<number, number>();
  const slotOf = new Map<number, number>();
  const net: number[] = [];
  const netQty: number[] = [];
  const bump = (u: number, q: number, qid: number, by: number): void => {
    const key = qid * names.length + u;
    let i = slotOf.get(key);
    if (i === undefined) {
      slotOf.set(key, (i = net.length));
      net.push(0);
      netQty.push(q);
    }
    net[i] += by;
  };
  let firstTrade = Infinity;
  let lastTrade = -Infinity;
  for (let i = lo; i < hi; i++) {
    const s = f.sellerOf[i - lo];
    const d = f.buyerOf[i - lo];
    if (!inSet[s] || !inSet[d]) continue;
    const t = list[i];
    if (t.ts < firstTrade) firstTrade = t.ts;
    if (t.ts > lastTrade) lastTrade = t.ts;
    let qid = sizeId.get(t.qty);
    if (qid === undefined) sizeId.set(t.qty, (qid = sizeId.size));
    bump(d, t.qty, qid, 1);
    bump(s, t.qty, qid, -1);
  }
  let unmatched = 0;
  for (let i = 0; i < net.length; i++) if (net[i] !== 0) unmatched += Math.abs(net[i]) * netQty[i];
  let concentration = 1;
  let minDir = Infinity;
  for (const [u, v] of acc) {
    concentration = Math.min(concentration, (v.b + v.s) / Math.max(f.total[u], 1e-300));
    minDir = Math.min(minDir, v.bt, v.st);
  }
  const ring: CollusiveRing = {
    id: 0,
    kind,
    market: null,
    start: 0,
    end: 0,
    firstTrade,
    lastTrade,
    members: [...acc.entries()].map(([u, v]) => member(names[u], v.b, v.s)).sort((x, y) => (x.account < y.account ? -1 : 1)),
    edges,
    trades,
    volume,
    value,
    tradeIds: ids.sort(),
    windows: 1,
    worstNetRatio: 0,
    concentration,
    sizeMatch: volume > 0 ? Math.max(0, 1 - unmatched / (2 * volume)) : 0,
    minDirectionTrades: Number.isFinite(minDir) ? minDir : 0,
    linkedShare: 0,
    score: 0,
    reason: '',
  };
  finish(ring, o.tol);
  return ring;
}

function member(account: string, bought: number, sold: number): RingMember {
  const net = bought - sold;
  return { account, bought, sold, net, netRatio: Math.abs(net) / Math.max(bought, sold, 1e-300) };
}

function finish(ring: CollusiveRing, tol: number): void {
  const worst = Math.max(...ring.members.map((m) => m.netRatio));
  ring.worstNetRatio = worst;
  const flat = tol > 0 ? Math.max(0, 1 - worst / tol) : worst === 0 ? 1 : 0;
  const size = 1 - 1 / ring.members.length;
  ring.score = Math.round((0.5 + 0.5 * flat) * (0.5 + size) * 1e4) / 1e4;
  ring.reason =
    ring.kind === 'linked'
      ? `${ring.members.length} linked accounts traded ${fmt(ring.volume)} among themselves in ${ring.trades} trades,` +
        ` at least ${(ring.concentration * 100).toFixed(0)}% of each one's volume in the window`
      : `${ring.members.length} accounts traded ${fmt(ring.volume)} among themselves in ${ring.trades} trades` +
        ` in a cycle (strongly connected), and every member ended within ${(worst * 100).toFixed(2)}% of flat` +
        ` (tolerance ${(tol * 100).toFixed(2)}%)`;
}

function mergeInto(prev: CollusiveRing, ring: CollusiveRing, maxIds: number, tol: number): void {
  // Overlapping windows double count; keep the union span and the larger window's totals.
  prev.end = ring.end;
  prev.windows++;
  prev.firstTrade = Math.min(prev.firstTrade, ring.firstTrade);
  prev.lastTrade = Math.max(prev.lastTrade, ring.lastTrade);
  if (ring.volume > prev.volume) {
    prev.members = ring.members;
    prev.edges = ring.edges;
    prev.trades = ring.trades;
    prev.volume = ring.volume;
    prev.value = ring.value;
    prev.concentration = ring.concentration;
    prev.sizeMatch = ring.sizeMatch;
    prev.minDirectionTrades = ring.minDirectionTrades;
    prev.linkedShare = ring.linkedShare;
    prev.kind = ring.kind;
  }
  const ids = new Set([...prev.tradeIds, ...ring.tradeIds]);
  prev.tradeIds = [...ids].sort().slice(0, maxIds);
  finish(prev, tol);
}

function fmt(x: number): string {
  return Number(x.toPrecision(6)).toString();
}

/** Rings from the entity graph's trades_with buckets (bucket resolution; trade ids are not kept in the graph). */
export function collusiveRings(graph: EntityGraph, opts: CollusiveRingOptions & { from?: number; to?: number } = {}): CollusiveRing[] {
  const flows = flowRecords(graph, 'trades_with', { from: opts.from, to: opts.to });
  const trades: RingTrade[] = flows.map((f) => ({ ts: f.ts, seller: f.from, buyer: f.to, qty: f.qty, value: f.value, market: f.market, count: f.count }));
  return detectCollusiveRings(trades, opts);
}
