import { buildCsr, pageRank, stronglyConnectedComponents } from '../csr.js';

/**
 * Unsupervised laundering score for account-to-account transfer graphs (AMLSim, or an exchange's
 * internal transfers). No labels are used: every parameter is either a documented constant or is
 * derived from the data itself.
 *
 * 1. Transfer suspicion e ∈ [0, 1], a noisy-or of
 *    - amount atypicality: robust z of log(amount) against all transfers (median/MAD);
 *      e_amt = clamp((z − 3) / 3, 0, 1)  (nothing below 3 MADs, certain at 6);
 *    - structuring: the same ordered pair transferring k ≥ 2 times within the window W;
 *      e_rep = 1 − 1/k.
 * 2. Account features
 *    - suspicious flow in and out: Σ e over its incoming and outgoing transfers;
 *    - fan-in / fan-out concentration: the most distinct senders (receivers) within any window W,
 *      as a Poisson surprise −log10 P(X ≥ k) against the account's own average rate;
 *    - pass-through: the share of each incoming amount matched by outflow within W after it;
 *    - temporal burstiness B = (σ − μ)/(σ + μ) of its inter-event times (Goh & Barabási 2008);
 *    - cycle participation: member of a strongly connected component (a) of all transfers inside a
 *      window W (sliding, step W/2), or (b) of the suspicious transfers (e ≥ 0.5) over all time;
 *    - round trip: on a time-respecting cycle of at most 6 transfers that returns to where it
 *      started, each hop's amount within 20% of the previous one (funds sent round and back);
 *    - multi-path: source or target of, or intermediary between, a pair of accounts joined by at least
 *      3 distinct time-respecting two-hop paths (scatter-gather, bipartite and stacked layering).
 * 3. Base score
 *      base = (ln(1 + Σe_in) + ln(1 + Σe_out)) · (1 + ½·passThrough + ½·max(0, B))
 *           + ½·(cycle_window + cycle_suspicious + round_trip + multi_path)
 *           + ln(1 + max(0, fanIn − 4)) + ln(1 + max(0, fanOut − 4))
 *    (pass-through and burstiness only amplify accounts that already move suspicious money; fan
 *    surprise counts only beyond p < 10⁻⁴.)
 * 4. Propagation: personalised PageRank from the base scores over the undirected transfer graph,
 *    edges weighted 1 + 4e (launderers transact with launderers), and
 *      score = base + ½ · ln(1 + PPR · n).
 *
 * The window W is where a random graph of this density cannot close cycles: W = ¼ · n / (transfers
 * per time unit), i.e. the span in which accounts make a quarter of a transfer each on average.
 */
export interface TransferArrays {
  /** Number of accounts (ids are 0..n-1). */
  n: number;
  src: Int32Array;
  dst: Int32Array;
  value: Float64Array;
  time: Float64Array;
}

export interface FlowAnomalyOptions {
  /** Window W in the data's time unit; default derived from the density (see above). */
  window?: number;
  /** PageRank damping. Default 0.85. */
  alpha?: number;
  /** Weight of the propagated term. Default 0.5. */
  propagation?: number;
  /** Round trips: longest cycle (default 6) and hop-to-hop amount tolerance (default 0.2). */
  roundTripHops?: number;
  roundTripTolerance?: number;
  /** Multi-path: distinct two-hop paths that make a pair suspicious. Default 3. */
  multiPathMin?: number;
}

export interface FlowAnomalyFeatures {
  suspiciousIn: Float64Array;
  suspiciousOut: Float64Array;
  fanIn: Float64Array;
  fanOut: Float64Array;
  passThrough: Float64Array;
  burstiness: Float64Array;
  cycleWindow: Uint8Array;
  cycleSuspicious: Uint8Array;
  roundTrip: Uint8Array;
  multiPath: Uint8Array;
  base: Float64Array;
  ppr: Float64Array;
}

export interface FlowAnomalyResult {
  score: Float64Array;
  features: FlowAnomalyFeatures;
  /** Per transfer: suspicion e and its parts. */
  edgeSuspicion: Float64Array;
  amountZ: Float64Array;
  repeats: Int32Array;
  window: number;
  /** log-amount median and MAD scale the amount z used. */
  amountCenter: number;
  amountScale: number;
}

export function defaultWindow(t: TransferArrays): number {
  const m = t.time.length;
  if (m === 0) return 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < m; i++) {
    if (t.time[i] < lo) lo = t.time[i];
    if (t.time[i] > hi) hi = t.time[i];
  }
  const span = hi - lo + 1;
  const rate = m / span;
  return Math.max(1, Math.round((0.25 * t.n) / rate));
}

function median(sorted: Float64Array): number {
  const k = sorted.length;
  if (k === 0) return 0;
  return k % 2 ? sorted[(k - 1) / 2] : (sorted[k / 2 - 1] + sorted[k / 2]) / 2;
}

/** −log10 P(X ≥ k) for X ~ Poisson(λ). */
export function poissonSurprise(k: number, lambda: number): number {
  if (k <= 0) return 0;
  if (lambda <= 0) return 300;
  // log of the k-th term, then the tail as a series of ratios.
  let logt = -lambda;
  for (let i = 1; i <= k; i++) logt += Math.log(lambda) - Math.log(i);
  let sum = 1;
  let ratio = 1;
  for (let i = k + 1; i < k + 1000; i++) {
    ratio *= lambda / i;
    sum += ratio;
    if (ratio < 1e-16 * sum) break;
  }
  const logTail = logt + Math.log(sum);
  return Math.min(300, Math.max(0, -logTail / Math.LN10));
}

/** Groups transfer ids by account (as src or dst), each list sorted by time. */
function byAccount(t: TransferArrays, side: Int32Array): { offsets: Int32Array; ids: Int32Array } {
  const n = t.n;
  const m = side.length;
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  order.sort((a, b) => t.time[a] - t.time[b] || a - b);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < m; i++) offsets[side[i] + 1]++;
  for (let u = 0; u < n; u++) offsets[u + 1] += offsets[u];
  const fill = offsets.slice(0, n);
  const ids = new Int32Array(m);
  for (const e of order) ids[fill[side[e]]++] = e;
  return { offsets, ids };
}

export function flowAnomalyScores(t: TransferArrays, opts: FlowAnomalyOptions = {}): FlowAnomalyResult {
  const { n, src, dst, value, time } = t;
  const m = src.length;
  const W = opts.window ?? defaultWindow(t);

  // 1a. Amount atypicality.
  const logv = new Float64Array(m);
  for (let i = 0; i < m; i++) logv[i] = Math.log(Math.max(value[i], 1e-12));
  const sorted = logv.slice().sort();
  const center = median(sorted);
  const dev = new Float64Array(m);
  for (let i = 0; i < m; i++) dev[i] = Math.abs(logv[i] - center);
  dev.sort();
  const scale = Math.max(1e-9, 1.4826 * median(dev));
  const amountZ = new Float64Array(m);
  for (let i = 0; i < m; i++) amountZ[i] = Math.abs(logv[i] - center) / scale;

  // 1b. Structuring: same ordered pair repeating within W.
  const repeats = new Int32Array(m).fill(1);
  const pairOrder = new Int32Array(m);
  for (let i = 0; i < m; i++) pairOrder[i] = i;
  pairOrder.sort((a, b) => src[a] - src[b] || dst[a] - dst[b] || time[a] - time[b] || a - b);
  for (let i = 0; i < m; ) {
    let j = i;
    while (j < m && src[pairOrder[j]] === src[pairOrder[i]] && dst[pairOrder[j]] === dst[pairOrder[i]]) j++;
    if (j - i > 1) {
      let lo = i;
      let hi = i;
      for (let k = i; k < j; k++) {
        const tk = time[pairOrder[k]];
        while (time[pairOrder[lo]] < tk - W) lo++;
        while (hi + 1 < j && time[pairOrder[hi + 1]] <= tk + W) hi++;
        repeats[pairOrder[k]] = hi - lo + 1;
      }
    }
    i = j;
  }
  const e = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const ea = Math.min(1, Math.max(0, (amountZ[i] - 3) / 3));
    const er = 1 - 1 / repeats[i];
    e[i] = 1 - (1 - ea) * (1 - er);
  }

  // 2. Account features.
  const suspiciousIn = new Float64Array(n);
  const suspiciousOut = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    suspiciousIn[dst[i]] += e[i];
    suspiciousOut[src[i]] += e[i];
  }
  const ins = byAccount(t, dst);
  const outs = byAccount(t, src);
  const fanIn = fanSurprise(ins, src, time, W, n);
  const fanOut = fanSurprise(outs, dst, time, W, n);
  const passThrough = new Float64Array(n);
  const burstiness = new Float64Array(n);
  for (let u = 0; u < n; u++) {
    const a0 = ins.offsets[u];
    const a1 = ins.offsets[u + 1];
    const b0 = outs.offsets[u];
    const b1 = outs.offsets[u + 1];
    if (a1 > a0 && b1 > b0) {
      // Prefix sums of outflow, then for each inflow the outflow within [t, t + W].
      const k = b1 - b0;
      const pre = new Float64Array(k + 1);
      for (let j = 0; j < k; j++) pre[j + 1] = pre[j] + value[outs.ids[b0 + j]];
      let tot = 0;
      let matched = 0;
      let lo = 0;
      let hi = 0;
      for (let i = a0; i < a1; i++) {
        const ei = ins.ids[i];
        const ti = time[ei];
        while (lo < k && time[outs.ids[b0 + lo]] < ti) lo++;
        if (hi < lo) hi = lo;
        while (hi < k && time[outs.ids[b0 + hi]] <= ti + W) hi++;
        tot += value[ei];
        matched += Math.min(value[ei], pre[hi] - pre[lo]);
      }
      passThrough[u] = tot > 0 ? matched / tot : 0;
    }
    // Burstiness over all its events (merge of the two time-sorted lists).
    const cnt = a1 - a0 + (b1 - b0);
    if (cnt >= 3) {
      let i = a0;
      let j = b0;
      let prev = NaN;
      let s1 = 0;
      let s2 = 0;
      let c = 0;
      while (i < a1 || j < b1) {
        let tt: number;
        if (j >= b1 || (i < a1 && time[ins.ids[i]] <= time[outs.ids[j]])) tt = time[ins.ids[i++]];
        else tt = time[outs.ids[j++]];
        if (prev === prev) {
          const d = tt - prev;
          s1 += d;
          s2 += d * d;
          c++;
        }
        prev = tt;
      }
      const mu = s1 / c;
      const sd = Math.sqrt(Math.max(0, s2 / c - mu * mu));
      burstiness[u] = sd + mu > 0 ? (sd - mu) / (sd + mu) : 1;
    }
  }
  const cycleWindow = windowedCycles(t, W);
  const cycleSuspicious = new Uint8Array(n);
  {
    const ss: number[] = [];
    const dd: number[] = [];
    for (let i = 0; i < m; i++) if (e[i] >= 0.5) {
      ss.push(src[i]);
      dd.push(dst[i]);
    }
    const scc = stronglyConnectedComponents(buildCsr(n, ss, dd));
    for (let u = 0; u < n; u++) if (scc.sizes[scc.labels[u]] > 1) cycleSuspicious[u] = 1;
  }

  const roundTrip = roundTrips(t, outs, opts.roundTripHops ?? 6, opts.roundTripTolerance ?? 0.2);
  const multiPath = multiPaths(t, ins, outs, opts.multiPathMin ?? 3);

  // 3. Base score.
  const base = new Float64Array(n);
  let posSum = 0;
  let posCount = 0;
  for (let u = 0; u < n; u++) {
    const flow = Math.log1p(suspiciousIn[u]) + Math.log1p(suspiciousOut[u]);
    base[u] =
      flow * (1 + 0.5 * passThrough[u] + 0.5 * Math.max(0, burstiness[u])) +
      0.5 * (cycleWindow[u] + cycleSuspicious[u] + roundTrip[u] + multiPath[u]) +
      Math.log1p(Math.max(0, fanIn[u] - 4)) +
      Math.log1p(Math.max(0, fanOut[u] - 4));
    if (base[u] > 0) {
      posSum += base[u];
      posCount++;
    }
  }

  // 4. Propagation.
  const w = new Float64Array(m);
  for (let i = 0; i < m; i++) w[i] = 1 + 4 * e[i];
  const csr = buildCsr(n, src, dst, w, { undirected: true });
  const eps = posCount ? (1e-3 * posSum) / posCount : 1;
  const p = new Float64Array(n);
  for (let u = 0; u < n; u++) p[u] = base[u] + eps;
  const ppr = pageRank(csr, p, { alpha: opts.alpha ?? 0.85, tolerance: 1e-10, maxIterations: 200 }).scores;
  const lambda = opts.propagation ?? 0.5;
  const score = new Float64Array(n);
  for (let u = 0; u < n; u++) score[u] = base[u] + lambda * Math.log1p(ppr[u] * n);
  return {
    score,
    features: { suspiciousIn, suspiciousOut, fanIn, fanOut, passThrough, burstiness, cycleWindow, cycleSuspicious, roundTrip, multiPath, base, ppr },
    edgeSuspicion: e,
    amountZ,
    repeats,
    window: W,
    amountCenter: center,
    amountScale: scale,
  };
}

/** Most distinct counterparties within any window W, as Poisson surprise against the account's own rate. */
function fanSurprise(g: { offsets: Int32Array; ids: Int32Array }, other: Int32Array, time: Float64Array, W: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const count = new Map<number, number>();
  for (let u = 0; u < n; u++) {
    const a = g.offsets[u];
    const b = g.offsets[u + 1];
    if (b - a < 2) continue;
    count.clear();
    const distinct = new Set<number>();
    for (let i = a; i < b; i++) distinct.add(other[g.ids[i]]);
    let best = 0;
    let lo = a;
    for (let i = a; i < b; i++) {
      const ti = time[g.ids[i]];
      const c = other[g.ids[i]];
      count.set(c, (count.get(c) ?? 0) + 1);
      while (time[g.ids[lo]] <= ti - W) {
        const o = other[g.ids[lo]];
        const k = count.get(o)! - 1;
        if (k === 0) count.delete(o);
        else count.set(o, k);
        lo++;
      }
      if (count.size > best) best = count.size;
    }
    const active = time[g.ids[b - 1]] - time[g.ids[a]] + W;
    const lambda = (distinct.size * W) / Math.max(active, W);
    out[u] = poissonSurprise(best, lambda);
  }
  return out;
}

/** Accounts in a strongly connected component of the transfers inside some window W (step W/2). */
function windowedCycles(t: TransferArrays, W: number): Uint8Array {
  const { n, src, dst, time } = t;
  const m = src.length;
  const out = new Uint8Array(n);
  if (m === 0) return out;
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  order.sort((a, b) => time[a] - time[b] || a - b);
  const step = Math.max(W / 2, Number.MIN_VALUE);
  const first = time[order[0]];
  const last = time[order[m - 1]];
  const localOf = new Int32Array(n).fill(-1);
  let lo = 0;
  for (let start = first - W + step; start <= last; start += step) {
    while (lo < m && time[order[lo]] < start) lo++;
    let hi = lo;
    while (hi < m && time[order[hi]] < start + W) hi++;
    if (hi - lo < 2) continue;
    const nodes: number[] = [];
    const s: number[] = [];
    const d: number[] = [];
    const local = (u: number): number => {
      if (localOf[u] < 0) {
        localOf[u] = nodes.length;
        nodes.push(u);
      }
      return localOf[u];
    };
    for (let k = lo; k < hi; k++) {
      const e = order[k];
      s.push(local(src[e]));
      d.push(local(dst[e]));
    }
    const scc = stronglyConnectedComponents(buildCsr(nodes.length, s, d));
    for (let v = 0; v < nodes.length; v++) {
      if (scc.sizes[scc.labels[v]] > 1) out[nodes[v]] = 1;
      localOf[nodes[v]] = -1;
    }
  }
  return out;
}

/**
 * Accounts on a time-respecting cycle (≤ maxHops transfers) whose amounts stay within `tol` hop to
 * hop. Depth-first from every transfer, time-sorted adjacency, bounded work per start transfer.
 */
function roundTrips(t: TransferArrays, outs: { offsets: Int32Array; ids: Int32Array }, maxHops: number, tol: number): Uint8Array {
  const { n, src, dst, value, time } = t;
  const m = src.length;
  const member = new Uint8Array(n);
  const path = new Int32Array(maxHops + 1);
  const stackNode = new Int32Array(maxHops + 1);
  const stackPos = new Int32Array(maxHops + 1);
  const stackEdge = new Int32Array(maxHops + 1);
  // Work bounds: at most 20,000 steps from one starting transfer, 2,000 per transfer on average overall.
  let remaining = 2_000 * m;
  for (let e0 = 0; e0 < m && remaining > 0; e0++) {
    const budget = Math.min(20_000, remaining);
    const s = src[e0];
    let depth = 0;
    path[0] = s;
    path[1] = dst[e0];
    stackNode[0] = dst[e0];
    stackEdge[0] = e0;
    stackPos[0] = firstAtOrAfter(outs, dst[e0], time, time[e0]);
    let work = 0;
    let found = false;
    while (depth >= 0 && !found && work < budget) {
      const u = stackNode[depth];
      const prev = stackEdge[depth];
      const end = outs.offsets[u + 1];
      let advanced = false;
      while (stackPos[depth] < end && work < budget) {
        const e = outs.ids[stackPos[depth]++];
        work++;
        if (Math.abs(value[e] - value[prev]) > tol * value[prev]) continue;
        const w = dst[e];
        if (w === s) {
          for (let k = 0; k <= depth + 1; k++) member[path[k]] = 1;
          found = true;
          break;
        }
        if (depth + 2 >= maxHops) continue;
        let onPath = false;
        for (let k = 0; k <= depth + 1; k++) if (path[k] === w) onPath = true;
        if (onPath) continue;
        depth++;
        path[depth + 1] = w;
        stackNode[depth] = w;
        stackEdge[depth] = e;
        stackPos[depth] = firstAtOrAfter(outs, w, time, time[e]);
        advanced = true;
        break;
      }
      if (!advanced && !found) depth--;
    }
    remaining -= work;
  }
  return member;
}

function firstAtOrAfter(g: { offsets: Int32Array; ids: Int32Array }, u: number, time: Float64Array, t: number): number {
  let lo = g.offsets[u];
  let hi = g.offsets[u + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[g.ids[mid]] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Accounts in a pair (s, g) joined by ≥ minPaths distinct intermediaries v with s→v then v→g. */
function multiPaths(t: TransferArrays, ins: { offsets: Int32Array; ids: Int32Array }, outs: { offsets: Int32Array; ids: Int32Array }, minPaths: number): Uint8Array {
  const { n, src, dst, time } = t;
  const member = new Uint8Array(n);
  const via = new Map<number, number[]>();
  const seenFrom = new Set<number>();
  for (let v = 0; v < n; v++) {
    const a0 = ins.offsets[v];
    const a1 = ins.offsets[v + 1];
    const b0 = outs.offsets[v];
    const b1 = outs.offsets[v + 1];
    if (a1 === a0 || b1 === b0 || (a1 - a0) * (b1 - b0) > 100_000) continue;
    // For each sender, its earliest transfer in; then every receiver paid at or after it.
    seenFrom.clear();
    for (let i = a0; i < a1; i++) {
      const e = ins.ids[i];
      const s = src[e];
      if (seenFrom.has(s)) continue;
      seenFrom.add(s);
      const seenTo = new Set<number>();
      for (let j = firstAtOrAfter(outs, v, time, time[e]); j < b1; j++) {
        const g = dst[outs.ids[j]];
        if (g === s || seenTo.has(g)) continue;
        seenTo.add(g);
        const key = s * n + g;
        let list = via.get(key);
        if (!list) via.set(key, (list = []));
        list.push(v);
      }
    }
  }
  for (const [key, list] of via) {
    if (list.length < minPaths) continue;
    member[Math.floor(key / n)] = 1;
    member[key % n] = 1;
    for (const v of list) member[v] = 1;
  }
  return member;
}

export interface FlowAnomalyExplanation {
  account: number;
  score: number;
  base: number;
  propagated: number;
  features: Record<string, number>;
  /** Its most suspicious transfers, with why. */
  transfers: { index: number; from: number; to: number; value: number; time: number; suspicion: number; why: string[] }[];
}

export function explainFlowAnomaly(t: TransferArrays, r: FlowAnomalyResult, account: number, maxTransfers = 10): FlowAnomalyExplanation {
  const f = r.features;
  const items: FlowAnomalyExplanation['transfers'] = [];
  for (let i = 0; i < t.src.length; i++) {
    if ((t.src[i] !== account && t.dst[i] !== account) || r.edgeSuspicion[i] <= 0) continue;
    const why: string[] = [];
    if (r.amountZ[i] > 3) why.push(`amount ${t.value[i]} is ${r.amountZ[i].toFixed(1)} MADs from the typical log-amount`);
    if (r.repeats[i] > 1) why.push(`${r.repeats[i]} transfers between the same pair within ${r.window}`);
    items.push({ index: i, from: t.src[i], to: t.dst[i], value: t.value[i], time: t.time[i], suspicion: Math.round(r.edgeSuspicion[i] * 1e4) / 1e4, why });
  }
  items.sort((a, b) => b.suspicion - a.suspicion || a.time - b.time || a.index - b.index);
  const n = t.n;
  return {
    account,
    score: r.score[account],
    base: f.base[account],
    propagated: r.score[account] - f.base[account],
    features: {
      suspiciousIn: f.suspiciousIn[account],
      suspiciousOut: f.suspiciousOut[account],
      fanInSurprise: f.fanIn[account],
      fanOutSurprise: f.fanOut[account],
      passThrough: f.passThrough[account],
      burstiness: f.burstiness[account],
      cycleWindow: f.cycleWindow[account],
      cycleSuspicious: f.cycleSuspicious[account],
      roundTrip: f.roundTrip[account],
      multiPath: f.multiPath[account],
      pprLift: f.ppr[account] * n,
    },
    transfers: items.slice(0, maxTransfers),
  };
}
