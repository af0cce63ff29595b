import type { AddressLabel, AddressLabels } from './labels.js';
import { classifyAddresses, traceExposure, RISKY, SEVERE, STOP, type AddressClasses, type Direction, type ExposureOptions, type ExposureResult } from './exposure.js';
import type { TransferGraph, TransferStep } from './transfers.js';

/**
 * Deposit and withdrawal screening with risk levels, answered from a precomputed index.
 *
 * The index runs, once per direction and per tier of badness (severe = sanctioned/terrorism/CSAM,
 * risk = every other risk category), a hop-bounded time-respecting multi-source search from all bad
 * addresses at once: forwards (earliest arrival) for deposits, backwards (latest departure) for
 * withdrawals, stopping at known services. Per address and hop count it keeps the best time and the
 * transfer that achieved it, so one screening is a few array reads plus walking ≤ N parents for the
 * explanation path: microseconds, whatever the graph size.
 *
 * Risk levels (the first that applies):
 *   severe  the address itself carries a severe label
 *   high    the address itself carries another risk label, or a severe address is 1 hop away
 *   medium  another risk address is 1 hop away, or a severe one is 2..N hops away
 *   low     another risk address is 2..N hops away
 *   none    nothing within N hops
 * A known service (an exchange's hot wallet) is capped at low: exposure through a pooled wallet is
 * not its customer's. `screen(..., { model })` adds the taint share under a model (computed on
 * demand and cached), for the cases where the amount matters.
 */
export type RiskLevel = 'severe' | 'high' | 'medium' | 'low' | 'none';
export const RISK_LEVELS: readonly RiskLevel[] = ['none', 'low', 'medium', 'high', 'severe'];

export interface ScreeningOptions {
  hops?: number;
  riskCategories?: readonly string[];
  stopCategories?: readonly string[];
  at?: number;
  /** Entries kept in the on-demand exposure cache. Default 10,000. */
  cacheSize?: number;
}

export interface ScreeningResult {
  address: string;
  direction: Direction;
  risk: RiskLevel;
  /** Why, in words. */
  reasons: string[];
  labels: AddressLabel[];
  /** Hops to the nearest bad address of the tier that set the level (null when none). */
  hops: number | null;
  /** The bad address the path leads to/from. */
  counterparty: string | null;
  counterpartyLabels: string[];
  /** Transfers from the bad address to this one (deposits) or from this one to the bad address (withdrawals). */
  path: TransferStep[];
  /** Present when a taint model was asked for. */
  exposure?: ExposureResult;
}

interface Reach {
  /** best[k][v]: earliest arrival (incoming) / latest departure (outgoing) with ≤ k hops; NaN = unreached. */
  best: Float64Array[];
  /** parent[k][v]: the transfer that improved best at round k, or -1 (inherited from k-1). */
  parent: Int32Array[];
}

export class ScreeningIndex {
  readonly hops: number;
  readonly classes: AddressClasses;
  private readonly reach = new Map<string, Reach>();
  private readonly cache = new Map<string, ExposureResult>();
  private readonly cacheSize: number;
  readonly buildMs: number;

  constructor(
    readonly graph: TransferGraph,
    readonly labels: AddressLabels,
    readonly opts: ScreeningOptions = {},
  ) {
    const t0 = performance.now();
    this.hops = Math.max(1, opts.hops ?? 3);
    this.cacheSize = opts.cacheSize ?? 10_000;
    this.classes = classifyAddresses(graph, labels, opts);
    for (const dir of ['incoming', 'outgoing'] as const) {
      for (const tier of ['severe', 'risk'] as const) this.reach.set(`${dir}:${tier}`, this.build(dir, tier === 'severe' ? SEVERE : RISKY));
    }
    this.buildMs = performance.now() - t0;
  }

  private build(dir: Direction, mask: number): Reach {
    const g = this.graph;
    const n = g.addressCount;
    const { out, in: inn } = g.csr();
    const { time, src, dst } = g.edges();
    const flags = this.classes.flags;
    const csr = dir === 'incoming' ? out : inn;
    const best: Float64Array[] = [];
    const parent: Int32Array[] = [];
    const b0 = new Float64Array(n).fill(NaN);
    let frontier: number[] = [];
    for (let v = 0; v < n; v++) {
      if (flags[v] & mask) {
        b0[v] = dir === 'incoming' ? -Infinity : Infinity;
        frontier.push(v);
      }
    }
    best.push(b0);
    parent.push(new Int32Array(n).fill(-1));
    for (let k = 1; k <= this.hops; k++) {
      const prev = best[k - 1];
      const cur = prev.slice();
      const par = new Int32Array(n).fill(-1);
      const improved: number[] = [];
      for (const u of frontier) {
        // Bad addresses start paths; services stop them; ordinary addresses pass funds on.
        if (k > 1 && flags[u] & (RISKY | STOP)) continue;
        const tau = prev[u];
        const start = csr.offsets[u];
        const end = csr.offsets[u + 1];
        // incoming: forwards along out-edges with t >= tau (rows time-sorted: skip the earlier ones).
        // outgoing: backwards along in-edges with t <= tau.
        let s = start;
        let e = end;
        if (dir === 'incoming') s = lowerBound(csr.edgeIds, time, start, end, tau);
        else e = upperBound(csr.edgeIds, time, start, end, tau);
        for (let k2 = s; k2 < e; k2++) {
          const edge = csr.edgeIds[k2];
          const v = dir === 'incoming' ? dst[edge] : src[edge];
          const t = time[edge];
          const c = cur[v];
          if (c !== c || (dir === 'incoming' ? t < c : t > c)) {
            if (par[v] < 0) improved.push(v);
            cur[v] = t;
            par[v] = edge;
          }
        }
      }
      best.push(cur);
      parent.push(par);
      frontier = improved;
    }
    return { best, parent };
  }

  /** Screens an address. direction 'incoming' for a deposit from it, 'outgoing' for a withdrawal to it. */
  screen(address: string, direction: Direction, opts: { model?: ExposureOptions['model'] } = {}): ScreeningResult {
    const g = this.graph;
    const id = g.lookup(address);
    const labels = this.labels.get(address, this.classes.at);
    const res: ScreeningResult = {
      address: id !== undefined ? g.address(id) : address,
      direction,
      risk: 'none',
      reasons: [],
      labels,
      hops: null,
      counterparty: null,
      counterpartyLabels: [],
      path: [],
    };
    const risk = labels.filter((l) => this.classes.riskCategories.has(l.category));
    const severe = risk.filter((l) => SEVERE_SET.has(l.category));
    const service = labels.some((l) => this.classes.stopCategories.has(l.category)) && risk.length === 0;
    if (severe.length) {
      res.risk = 'severe';
      res.reasons.push(`the address itself is labelled ${describe(severe)}`);
    } else if (risk.length) {
      res.risk = 'high';
      res.reasons.push(`the address itself is labelled ${describe(risk)}`);
    }
    if (id !== undefined) {
      const sev = this.nearest(id, direction, 'severe');
      const oth = this.nearest(id, direction, 'risk');
      const verb = direction === 'incoming' ? 'received funds from' : 'sent funds to';
      let level: RiskLevel = 'none';
      let pick: { hops: number; reach: Reach } | null = null;
      if (sev && sev.hops >= 1) {
        level = sev.hops === 1 ? 'high' : 'medium';
        pick = sev;
      }
      if (oth && oth.hops >= 1) {
        const l2: RiskLevel = oth.hops === 1 ? 'medium' : 'low';
        if (rank(l2) > rank(level)) {
          level = l2;
          pick = oth;
        } else if (!pick) pick = oth;
      }
      if (pick) {
        const path = this.path(id, direction, pick.hops, pick.reach);
        const bad = direction === 'incoming' ? path[0]?.from : path[path.length - 1]?.to;
        res.hops = pick.hops;
        res.path = path;
        res.counterparty = bad ?? null;
        const bl = bad ? this.labels.get(bad, this.classes.at).filter((l) => this.classes.riskCategories.has(l.category)) : [];
        res.counterpartyLabels = bl.map((l) => `${l.label} [${l.category}]`);
        if (service && rank(level) > rank('low')) {
          res.reasons.push(`${pick.hops === 1 ? 'directly' : `${pick.hops} hops from`} ${describe(bl)}, but the address is a known service (${describe(labels)}): capped at low`);
          level = 'low';
        } else {
          res.reasons.push(`${verb} ${describe(bl)} ${pick.hops === 1 ? 'directly' : `through ${pick.hops} hops`} (${bad})`);
        }
        if (rank(level) > rank(res.risk)) res.risk = level;
      }
    }
    if (opts.model) res.exposure = this.exposure(address, direction, opts.model);
    if (res.risk === 'none') res.reasons.push(`no risk label within ${this.hops} hops`);
    return res;
  }

  /** Full exposure under a taint model, cached (LRU). */
  exposure(address: string, direction: Direction, model: NonNullable<ExposureOptions['model']>): ExposureResult {
    const key = `${direction}|${model}|${address}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const r = traceExposure(this.graph, this.labels, address, { direction, model, hops: this.hops, classes: this.classes, at: this.classes.at });
    this.cache.set(key, r);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return r;
  }

  private nearest(id: number, dir: Direction, tier: 'severe' | 'risk'): { hops: number; reach: Reach } | null {
    const r = this.reach.get(`${dir}:${tier}`)!;
    for (let k = 0; k <= this.hops; k++) {
      const b = r.best[k][id];
      if (b === b) return { hops: k, reach: r };
    }
    return null;
  }

  private path(id: number, dir: Direction, hops: number, r: Reach): TransferStep[] {
    const { src, dst } = this.graph.edges();
    const steps: TransferStep[] = [];
    let v = id;
    let k = hops;
    while (k > 0) {
      while (k > 0 && r.parent[k][v] < 0) k--;
      if (k === 0) break;
      const e = r.parent[k][v];
      steps.push(this.graph.step(e));
      v = dir === 'incoming' ? src[e] : dst[e];
      k--;
    }
    return dir === 'incoming' ? steps.reverse() : steps;
  }
}

const SEVERE_SET = new Set(['sanctioned', 'terrorism', 'csam']);

function rank(l: RiskLevel): number {
  return RISK_LEVELS.indexOf(l);
}

function describe(labels: { label: string; category: string }[]): string {
  if (!labels.length) return 'a risky address';
  const uniq = [...new Set(labels.map((l) => `${l.label} [${l.category}]`))];
  return uniq.join(', ');
}

function lowerBound(ids: Int32Array, time: Float64Array, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[ids[mid]] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
function upperBound(ids: Int32Array, time: Float64Array, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[ids[mid]] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
