import type { Csr } from '../graph/csr.js';
import { RISK_CATEGORIES, SERVICE_CATEGORIES, SEVERE_CATEGORIES, type AddressLabel, type AddressLabels } from './labels.js';
import type { TransferGraph, TransferStep } from './transfers.js';

/**
 * Exposure of an address to risky addresses (sanctioned, mixers, scams…), directly or within N hops,
 * under three taint models, stopping at known services, explained by the path(s) to the bad address.
 *
 * Direction
 *   incoming  where did the address's funds come from? (deposit screening: bad → … → address)
 *   outgoing  where do the address's funds go?        (withdrawal screening: address → … → bad)
 *
 * The search is time-respecting: funds only move forward in time, so a path bad → a → b → address
 * needs t(bad→a) ≤ t(a→b) ≤ t(b→address). Risky addresses end a path (they are the origin or the
 * destination); known services (exchange, custodian, bridge…) stop it, because a service pools
 * many customers' funds and taint through it says nothing about the next customer.
 *
 * Taint models (Möser, Böhme & Breuker 2014, "Towards Risk Scoring of Bitcoin Transactions"; Tironsakkul
 * et al. 2019, "Probing the Mystery of Cryptocurrency Theft"), simulated over the transfers that lie
 * on those paths, in time order, with each address's balance built from what it received:
 *   poison   any tainted coin taints the whole balance: everything the address sends afterwards is tainted.
 *   haircut  the balance is a mix: each transfer out carries the balance's tainted share at that moment.
 *   fifo     coins leave in the order they arrived: a transfer out takes the oldest coins first.
 * Funds an address spends beyond what the data shows it received are of unknown origin and count as clean.
 * For incoming exposure, risky senders send fully tainted value and the share is tainted value received
 * by the address over all value it received. For outgoing, the address's own outflow is the tracked
 * value and the share is tracked value arriving at risky addresses over all value it sent (capped at 1).
 */
export type TaintModel = 'poison' | 'haircut' | 'fifo';
export type Direction = 'incoming' | 'outgoing';
export const TAINT_MODELS: readonly TaintModel[] = ['poison', 'haircut', 'fifo'];

export interface ExposureOptions {
  direction?: Direction;
  model?: TaintModel;
  /** Longest path considered. Default 3. */
  hops?: number;
  riskCategories?: readonly string[];
  stopCategories?: readonly string[];
  /** Labels as of this event time (default: the current lists). */
  at?: number;
  /** Most sources (or destinations) listed with their paths. Default 10. */
  maxPaths?: number;
  /** Most addresses explored; beyond it the result says `truncated`. Default 50,000. */
  maxNodes?: number;
  /** A prepared classification (screening passes its own). */
  classes?: AddressClasses;
}

export interface ExposureCounterparty {
  address: string;
  labels: { label: string; category: string; source: string }[];
  hops: number;
  /** Tainted value this counterparty accounts for (alone), and its share of the total. */
  value: number;
  share: number;
  /** Transfers from the bad address to this one (incoming), or from this one to the bad address (outgoing). */
  path: TransferStep[];
}

export interface ExposureResult {
  address: string;
  direction: Direction;
  model: TaintModel;
  hops: number;
  /** The address's own active labels. */
  labels: AddressLabel[];
  /** The address itself carries a risk label. */
  risky: boolean;
  /** A risky address is a direct counterparty. */
  direct: boolean;
  /** Tainted share of the value received (incoming) or sent (outgoing), 0..1. */
  exposure: number;
  taintedValue: number;
  totalValue: number;
  /** The risky counterparties, most exposure first, with their paths: the explanation. */
  counterparties: ExposureCounterparty[];
  /** Known services where the search stopped. */
  stoppedAt: { address: string; labels: string[] }[];
  explored: number;
  truncated: boolean;
}

/** Per-address flags derived from labels once: bit 1 risky, bit 2 severe, bit 4 service (stop). */
export interface AddressClasses {
  flags: Uint8Array;
  riskCategories: Set<string>;
  stopCategories: Set<string>;
  at?: number;
}
export const RISKY = 1;
export const SEVERE = 2;
export const STOP = 4;

export function classifyAddresses(graph: TransferGraph, labels: AddressLabels, opts: { riskCategories?: readonly string[]; stopCategories?: readonly string[]; at?: number } = {}): AddressClasses {
  const risk = new Set(opts.riskCategories ?? RISK_CATEGORIES);
  const stop = new Set(opts.stopCategories ?? SERVICE_CATEGORIES);
  const severe = new Set<string>(SEVERE_CATEGORIES);
  const flags = new Uint8Array(graph.addressCount);
  for (const a of labels.addresses(opts.at)) {
    const id = graph.lookup(a);
    if (id === undefined) continue;
    for (const l of labels.get(a, opts.at)) {
      if (risk.has(l.category)) flags[id] |= RISKY | (severe.has(l.category) ? SEVERE : 0);
      else if (stop.has(l.category)) flags[id] |= STOP;
    }
  }
  // A risky label wins over a service label (a sanctioned exchange is a sanctioned address).
  for (let i = 0; i < flags.length; i++) if (flags[i] & RISKY) flags[i] &= ~STOP;
  return { flags, riskCategories: risk, stopCategories: stop, at: opts.at };
}

/** Rows are time-sorted: first slot with time > t (upper bound). */
function upper(csr: Csr, time: Float64Array, row: number, t: number): number {
  let lo = csr.offsets[row];
  let hi = csr.offsets[row + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[csr.edgeIds[mid]] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
/** First slot with time >= t (lower bound). */
function lower(csr: Csr, time: Float64Array, row: number, t: number): number {
  let lo = csr.offsets[row];
  let hi = csr.offsets[row + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[csr.edgeIds[mid]] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Search {
  ids: number[];
  local: Map<number, number>;
  /** best[k * size + i]: latest departure (incoming) / earliest arrival (outgoing) within k hops. */
  best: number[][];
  parent: number[][];
  truncated: boolean;
}

/**
 * Hop-bounded, time-respecting search from the address. For `incoming` it walks backwards
 * computing, per address and hop count k, the latest time it can send and still reach the address
 * within k hops; for `outgoing`, forwards, the earliest time funds can arrive there.
 */
function search(graph: TransferGraph, start: number, dir: Direction, hops: number, flags: Uint8Array, maxNodes: number): Search {
  const { out, in: inn } = graph.csr();
  const { time, src, dst } = graph.edges();
  const csr = dir === 'incoming' ? inn : out;
  const ids: number[] = [start];
  const local = new Map<number, number>([[start, 0]]);
  const best: number[][] = [[dir === 'incoming' ? Infinity : -Infinity]];
  const parent: number[][] = [[-1]];
  let truncated = false;
  const worst = dir === 'incoming' ? -Infinity : Infinity;
  let frontier = [0];
  for (let k = 1; k <= hops && frontier.length; k++) {
    for (let i = 0; i < ids.length; i++) {
      best[i][k] = best[i][k - 1];
      parent[i][k] = -1;
    }
    const improved = new Set<number>();
    for (const li of frontier) {
      const v = ids[li];
      if (li !== 0 && flags[v] & (RISKY | STOP)) continue;
      const tau = best[li][k - 1];
      const from = dir === 'incoming' ? csr.offsets[v] : lower(csr, time, v, tau);
      const to = dir === 'incoming' ? upper(csr, time, v, tau) : csr.offsets[v + 1];
      for (let s = from; s < to; s++) {
        const e = csr.edgeIds[s];
        const u = dir === 'incoming' ? src[e] : dst[e];
        const t = time[e];
        let lu = local.get(u);
        if (lu === undefined) {
          if (ids.length >= maxNodes) {
            truncated = true;
            continue;
          }
          lu = ids.length;
          local.set(u, lu);
          ids.push(u);
          best.push(new Array(k + 1).fill(worst));
          parent.push(new Array(k + 1).fill(-1));
        }
        const better = dir === 'incoming' ? t > best[lu][k] : t < best[lu][k];
        if (better) {
          best[lu][k] = t;
          parent[lu][k] = e;
          improved.add(lu);
        }
      }
    }
    frontier = [...improved].sort((a, b) => a - b);
  }
  // Pad rows to hops + 1.
  for (let i = 0; i < ids.length; i++) {
    for (let k = best[i].length; k <= hops; k++) {
      best[i][k] = best[i][k - 1];
      parent[i][k] = -1;
    }
  }
  return { ids, local, best, parent, truncated };
}

function minHops(sr: Search, li: number, dir: Direction, hops: number): number {
  for (let k = 0; k <= hops; k++) if (Number.isFinite(sr.best[li][k]) || (k === 0 && li === 0)) return k;
  void dir;
  return -1;
}

/** The path from address li (reached in k hops) to the start, as transfers in flow order. */
function pathOf(graph: TransferGraph, sr: Search, li: number, k: number, dir: Direction): TransferStep[] {
  const { src, dst } = graph.edges();
  const steps: TransferStep[] = [];
  let cur = li;
  while (k > 0) {
    while (k > 0 && sr.parent[cur][k] < 0) k--;
    if (k === 0) break;
    const e = sr.parent[cur][k];
    steps.push(graph.step(e));
    cur = sr.local.get(dir === 'incoming' ? dst[e] : src[e])!;
    k--;
  }
  // incoming: steps run bad → … → address already; outgoing: they run destination ← …, so reverse.
  return dir === 'incoming' ? steps : steps.reverse();
}

/**
 * The transfers replayed by the taint simulation: every transfer into or out of an explored address.
 * Outflows to anywhere matter because they drain balances (FIFO order, haircut share); inflows from
 * anywhere matter because clean funds dilute. Unexplored senders carry no taint (their own inflows lie
 * beyond the hop limit), so taint only enters through explored bad addresses.
 */
function flowEdges(graph: TransferGraph, sr: Search): number[] {
  const { out, in: inn } = graph.csr();
  const { time } = graph.edges();
  const seen = new Set<number>();
  for (const v of sr.ids) {
    for (let s = inn.offsets[v]; s < inn.offsets[v + 1]; s++) seen.add(inn.edgeIds[s]);
    for (let s = out.offsets[v]; s < out.offsets[v + 1]; s++) seen.add(out.edgeIds[s]);
  }
  return [...seen].sort((a, b) => time[a] - time[b] || a - b);
}

/**
 * Replays the transfers in time order under a taint model.
 * origin(u): 1 if u's outflow is fully tainted (a risky source, or the tracked address), else 0.
 * blocked(u): u's outflow is clean whatever it received (a service).
 * Returns tainted value received per address id.
 */
function simulate(graph: TransferGraph, edges: number[], model: TaintModel, origin: (u: number) => boolean, blocked: (u: number) => boolean): Map<number, number> {
  const { src, dst, value } = graph.edges();
  const received = new Map<number, number>();
  const poisoned = new Set<number>();
  const bal = new Map<number, number>();
  const tainted = new Map<number, number>();
  const queues = new Map<number, { q: number[]; head: number }>();
  for (const e of edges) {
    const u = src[e];
    const v = dst[e];
    const x = value[e];
    let tx = 0;
    if (origin(u)) tx = x;
    else if (blocked(u)) tx = 0;
    else if (model === 'poison') tx = poisoned.has(u) ? x : 0;
    else if (model === 'haircut') {
      const b = bal.get(u) ?? 0;
      const t = tainted.get(u) ?? 0;
      const f = b > 0 ? t / Math.max(b, x) : 0;
      tx = f * x;
      bal.set(u, Math.max(0, b - x));
      tainted.set(u, Math.max(0, t - tx));
    } else {
      // FIFO queue of [amount, taintedAmount] chunks.
      const qu = queues.get(u);
      let need = x;
      if (qu) {
        const q = qu.q;
        while (need > 1e-12 && qu.head < q.length) {
          const amt = q[qu.head];
          const ta = q[qu.head + 1];
          if (amt <= need) {
            tx += ta;
            need -= amt;
            qu.head += 2;
          } else {
            const part = ta * (need / amt);
            tx += part;
            q[qu.head] = amt - need;
            q[qu.head + 1] = ta - part;
            need = 0;
          }
        }
        if (qu.head > 64 && qu.head * 2 > q.length) {
          qu.q = q.slice(qu.head);
          qu.head = 0;
        }
      }
    }
    if (tx > 0) received.set(v, (received.get(v) ?? 0) + tx);
    if (model === 'poison') {
      if (tx > 0) poisoned.add(v);
    } else if (model === 'haircut') {
      bal.set(v, (bal.get(v) ?? 0) + x);
      tainted.set(v, (tainted.get(v) ?? 0) + tx);
    } else {
      let qv = queues.get(v);
      if (!qv) queues.set(v, (qv = { q: [], head: 0 }));
      qv.q.push(x, tx);
    }
  }
  return received;
}

/** Exposure of one address, computed on demand from the transfer graph (exact for the local subgraph). */
export function traceExposure(graph: TransferGraph, labels: AddressLabels, address: string, opts: ExposureOptions = {}): ExposureResult {
  const dir = opts.direction ?? 'incoming';
  const model = opts.model ?? 'haircut';
  const hops = Math.max(1, opts.hops ?? 3);
  const maxPaths = opts.maxPaths ?? 10;
  const classes = opts.classes ?? classifyAddresses(graph, labels, opts);
  const own = labels.get(address, opts.at ?? classes.at);
  const result: ExposureResult = {
    address: graph.lookup(address) !== undefined ? graph.address(graph.lookup(address)!) : address,
    direction: dir,
    model,
    hops,
    labels: own,
    risky: own.some((l) => classes.riskCategories.has(l.category)),
    direct: false,
    exposure: 0,
    taintedValue: 0,
    totalValue: 0,
    counterparties: [],
    stoppedAt: [],
    explored: 0,
    truncated: false,
  };
  const start = graph.lookup(address);
  if (start === undefined) return result;
  const flags = classes.flags;
  const sr = search(graph, start, dir, hops, flags, opts.maxNodes ?? 50_000);
  result.explored = sr.ids.length;
  result.truncated = sr.truncated;
  const risky: number[] = [];
  for (let li = 1; li < sr.ids.length; li++) {
    const f = flags[sr.ids[li]];
    if (f & RISKY) risky.push(li);
    else if (f & STOP && result.stoppedAt.length < 20) {
      result.stoppedAt.push({ address: graph.address(sr.ids[li]), labels: labels.get(graph.address(sr.ids[li]), classes.at).map((l) => l.label) });
    }
  }
  const edges = flowEdges(graph, sr);
  const { src, dst, value } = graph.edges();
  // Total value received (incoming) or sent (outgoing) by the address, over all its transfers.
  const { out, in: inn } = graph.csr();
  const row = dir === 'incoming' ? inn : out;
  for (let s = row.offsets[start]; s < row.offsets[start + 1]; s++) result.totalValue += value[row.edgeIds[s]];
  const blocked = (u: number): boolean => (flags[u] & STOP) !== 0 && u !== start;
  // Only bad addresses the search reached (within the hop limit) inject taint.
  const isRisky = (u: number): boolean => (flags[u] & RISKY) !== 0 && u !== start && sr.local.has(u);
  let perCounterparty: { li: number; value: number }[];
  if (dir === 'incoming') {
    const all = simulate(graph, edges, model, isRisky, blocked);
    result.taintedValue = all.get(start) ?? 0;
    perCounterparty = risky.map((li) => {
      const u = sr.ids[li];
      const one = risky.length === 1 ? all : simulate(graph, edges, model, (x) => x === u, (x) => blocked(x) || (isRisky(x) && x !== u));
      return { li, value: one.get(start) ?? 0 };
    });
  } else {
    // Track the address's own outflow; risky addresses are sinks (their outflow is not followed).
    const got = simulate(graph, edges, model, (u) => u === start, (u) => blocked(u) || isRisky(u));
    perCounterparty = risky.map((li) => ({ li, value: got.get(sr.ids[li]) ?? 0 }));
    result.taintedValue = Math.min(result.totalValue, perCounterparty.reduce((s, c) => s + c.value, 0));
  }
  void src;
  void dst;
  result.exposure = result.totalValue > 0 ? Math.min(1, result.taintedValue / result.totalValue) : 0;
  perCounterparty.sort((a, b) => b.value - a.value || minHops(sr, a.li, dir, hops) - minHops(sr, b.li, dir, hops) || sr.ids[a.li] - sr.ids[b.li]);
  for (const c of perCounterparty) {
    const k = minHops(sr, c.li, dir, hops);
    if (k === 1) result.direct = true;
  }
  result.counterparties = perCounterparty.slice(0, maxPaths).map((c) => {
    const a = graph.address(sr.ids[c.li]);
    const k = minHops(sr, c.li, dir, hops);
    return {
      address: a,
      labels: labels.get(a, classes.at).filter((l) => classes.riskCategories.has(l.category)).map((l) => ({ label: l.label, category: l.category, source: l.source })),
      hops: k,
      value: c.value,
      share: result.totalValue > 0 ? Math.min(1, c.value / result.totalValue) : 0,
      path: pathOf(graph, sr, c.li, k, dir),
    };
  });
  return result;
}
