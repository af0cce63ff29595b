import { buildCsr, stronglyConnectedComponents, Interner } from '../csr.js';
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
 * Windows overlap by half (step = window / 2) so a ring straddling a boundary is still seen whole;
 * the same ring found in consecutive windows is reported once, with the span it covered.
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
  /** Fewest trades inside the ring in the window. Default 3. */
  minTrades?: number;
  /** Largest |net| / max(bought, sold) a member may have. Default 0.05. */
  tolerance?: number;
  /** Most trade ids kept per ring as evidence. Default 50. */
  maxTradeIds?: number;
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
  market: string | null;
  start: number;
  end: number;
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
  ids: string[];
}

/** The function a wash-trading detector calls with the trades it holds. Deterministic for a given input. */
export function detectCollusiveRings(trades: readonly RingTrade[], opts: CollusiveRingOptions = {}): CollusiveRing[] {
  const windowMs = opts.windowMs ?? 3_600_000;
  const stepMs = opts.stepMs ?? Math.max(1, Math.floor(windowMs / 2));
  const minMembers = Math.max(2, opts.minMembers ?? 2);
  const minTrades = opts.minTrades ?? 3;
  const tol = opts.tolerance ?? 0.05;
  const maxIds = opts.maxTradeIds ?? 50;

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
        for (const ring of ringsInWindow(list, lo, hi, { minMembers, minTrades, tol, maxIds })) {
          const key = ring.members.map((m) => m.account).join('\u0001');
          const prev = open.get(key);
          ring.market = market === '' ? null : market;
          ring.start = start;
          ring.end = end;
          if (prev) {
            mergeInto(prev, ring, maxIds, tol);
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
  found.sort((a, b) => b.score - a.score || b.volume - a.volume || a.start - b.start || (a.members[0].account < b.members[0].account ? -1 : 1));
  found.forEach((r, i) => (r.id = i));
  return found;
}

function ringsInWindow(list: RingTrade[], lo: number, hi: number, o: { minMembers: number; minTrades: number; tol: number; maxIds: number }): CollusiveRing[] {
  const names = new Interner();
  const pairs = new Map<number, Agg>();
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = lo; i < hi; i++) {
    const t = list[i];
    const s = names.id(t.seller);
    const d = names.id(t.buyer);
    const key = s * PAIR_KEY + d;
    let a = pairs.get(key);
    if (!a) {
      pairs.set(key, (a = { qty: 0, value: 0, trades: 0, ids: [] }));
      src.push(s);
      dst.push(d);
    }
    a.qty += t.qty;
    a.value += t.value ?? t.qty;
    a.trades += t.count ?? 1;
    if (t.tradeId && a.ids.length < o.maxIds) a.ids.push(t.tradeId);
  }
  const n = names.size;
  const csr = buildCsr(n, src, dst);
  const scc = stronglyConnectedComponents(csr);
  const out: CollusiveRing[] = [];
  const groups = new Map<number, number[]>();
  for (let u = 0; u < n; u++) {
    if (scc.sizes[scc.labels[u]] < o.minMembers) continue;
    let g = groups.get(scc.labels[u]);
    if (!g) groups.set(scc.labels[u], (g = []));
    g.push(u);
  }
  const stack = [...groups.values()];
  while (stack.length) {
    const members = stack.pop()!;
    if (members.length < o.minMembers) continue;
    const inSet = new Set(members);
    const bought = new Map<number, number>();
    const sold = new Map<number, number>();
    let trades = 0;
    for (const [key, a] of pairs) {
      const s = Math.floor(key / PAIR_KEY);
      const d = key % PAIR_KEY;
      if (!inSet.has(s) || !inSet.has(d)) continue;
      sold.set(s, (sold.get(s) ?? 0) + a.qty);
      bought.set(d, (bought.get(d) ?? 0) + a.qty);
      trades += a.trades;
    }
    if (trades < o.minTrades) continue;
    let worst = -1;
    let worstRatio = -1;
    for (const u of members) {
      const b = bought.get(u) ?? 0;
      const s = sold.get(u) ?? 0;
      const r = Math.abs(b - s) / Math.max(b, s, 1e-300);
      if (r > worstRatio || (r === worstRatio && names.keys[u] > names.keys[worst])) {
        worstRatio = r;
        worst = u;
      }
    }
    if (worstRatio <= o.tol) {
      out.push(makeRing(members, pairs, names, o.tol, o.maxIds));
      continue;
    }
    // Peel the member furthest from flat and look again at what still cycles.
    const rest = members.filter((u) => u !== worst);
    if (rest.length < o.minMembers) continue;
    const restSet = new Set(rest);
    const rs: number[] = [];
    const rd: number[] = [];
    const local = new Map<number, number>();
    rest.forEach((u, i) => local.set(u, i));
    for (const key of pairs.keys()) {
      const s = Math.floor(key / PAIR_KEY);
      const d = key % PAIR_KEY;
      if (restSet.has(s) && restSet.has(d)) {
        rs.push(local.get(s)!);
        rd.push(local.get(d)!);
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
    for (const g of sg.values()) if (g.length >= o.minMembers) stack.push(g);
  }
  return out;
}

function makeRing(members: number[], pairs: Map<number, Agg>, names: Interner, tol: number, maxIds: number): CollusiveRing {
  const inSet = new Set(members);
  const acc = new Map<number, { b: number; s: number }>();
  for (const u of members) acc.set(u, { b: 0, s: 0 });
  const edges: CollusiveRing['edges'] = [];
  const ids: string[] = [];
  let trades = 0;
  let volume = 0;
  let value = 0;
  for (const [key, a] of pairs) {
    const s = Math.floor(key / PAIR_KEY);
    const d = key % PAIR_KEY;
    if (!inSet.has(s) || !inSet.has(d)) continue;
    acc.get(s)!.s += a.qty;
    acc.get(d)!.b += a.qty;
    edges.push({ from: names.keys[s], to: names.keys[d], qty: a.qty, value: a.value, trades: a.trades });
    trades += a.trades;
    volume += a.qty;
    value += a.value;
    for (const id of a.ids) if (ids.length < maxIds) ids.push(id);
  }
  edges.sort((x, y) => (x.from < y.from ? -1 : x.from > y.from ? 1 : x.to < y.to ? -1 : 1));
  const ring: CollusiveRing = {
    id: 0,
    market: null,
    start: 0,
    end: 0,
    members: [...acc.entries()]
      .map(([u, v]) => member(names.keys[u], v.b, v.s))
      .sort((x, y) => (x.account < y.account ? -1 : 1)),
    edges,
    trades,
    volume,
    value,
    tradeIds: ids.sort(),
    windows: 1,
    score: 0,
    reason: '',
  };
  finish(ring, tol);
  return ring;
}

function member(account: string, bought: number, sold: number): RingMember {
  const net = bought - sold;
  return { account, bought, sold, net, netRatio: Math.abs(net) / Math.max(bought, sold, 1e-300) };
}

function finish(ring: CollusiveRing, tol: number): void {
  const worst = Math.max(...ring.members.map((m) => m.netRatio));
  const flat = tol > 0 ? Math.max(0, 1 - worst / tol) : worst === 0 ? 1 : 0;
  const size = 1 - 1 / ring.members.length;
  ring.score = Math.round((0.5 + 0.5 * flat) * (0.5 + size) * 1e4) / 1e4;
  ring.reason =
    `${ring.members.length} accounts traded ${fmt(ring.volume)} among themselves in ${ring.trades} trades` +
    ` in a cycle (strongly connected), and every member ended within ${(worst * 100).toFixed(2)}% of flat` +
    ` (tolerance ${(tol * 100).toFixed(2)}%)`;
}

function mergeInto(prev: CollusiveRing, ring: CollusiveRing, maxIds: number, tol: number): void {
  // Overlapping windows double count; keep the union span and the larger window's totals.
  prev.end = ring.end;
  prev.windows++;
  if (ring.volume > prev.volume) {
    prev.members = ring.members;
    prev.edges = ring.edges;
    prev.trades = ring.trades;
    prev.volume = ring.volume;
    prev.value = ring.value;
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
