import { UnionFind } from '../csr.js';
import type { EntityGraph } from '../entity-graph.js';

/**
 * Sybil and fake-traffic farms: many young accounts that share devices or IPs and act in lockstep.
 *
 * 1. Young accounts: opened (account.opened, else first seen) within `maxAgeMs` of `now` (event time).
 * 2. Groups: young accounts joined by a device or IP they share (identifiers shared by more than
 *    `maxShare` young accounts, e.g. a carrier NAT, are ignored).
 * 3. Lockstep: for two accounts, co-activity = the share of their events that have an event of the
 *    other within ±`toleranceMs` (scripts drive farms, so their accounts act within seconds of each
 *    other; people do not). Within a group, pairs at or above `minLockstep` are joined, and each
 *    resulting component of at least `minSize` accounts is a farm.
 * Every farm carries its evidence: the shared identifiers, the most synchronised pairs, opening times.
 */
export interface SybilFarmOptions {
  /** "Now" in event time; default the graph's watermark. */
  now?: number;
  /** Default 30 days. */
  maxAgeMs?: number;
  /** Smallest farm. Default 3. */
  minSize?: number;
  identifierTypes?: ('uses_device' | 'uses_ip')[];
  /** Default 1,000. */
  maxShare?: number;
  /** Co-activity tolerance. Default 60 s. */
  toleranceMs?: number;
  /** Co-activity at which two accounts count as in lockstep. Default 0.5. */
  minLockstep?: number;
  /** Accounts with fewer activity events cannot be judged. Default 3. */
  minEvents?: number;
  /** Only accounts whose opening (account.opened) was seen count as young, not those merely first seen lately. Default false. */
  openedOnly?: boolean;
}

export interface SybilFarm {
  id: number;
  members: string[];
  size: number;
  identifiers: { node: string; members: number }[];
  /** Median co-activity over member pairs joined by lockstep. */
  lockstep: number;
  /** The most synchronised pairs (evidence), strongest first. */
  pairs: { a: string; b: string; coActivity: number }[];
  openedFrom: number;
  openedTo: number;
  events: number;
  score: number;
  reason: string;
}

/** Share of both accounts' events that have an event of the other within ±tol. Inputs sorted ascending. */
export function coActivity(a: readonly number[], b: readonly number[], tol: number): number {
  if (a.length === 0 || b.length === 0) return 0;
  return (matched(a, b, tol) + matched(b, a, tol)) / (a.length + b.length);
}

function matched(a: readonly number[], b: readonly number[], tol: number): number {
  let j = 0;
  let hits = 0;
  for (let i = 0; i < a.length; i++) {
    const t = a[i];
    while (j < b.length && b[j] < t - tol) j++;
    if (j < b.length && b[j] <= t + tol) hits++;
  }
  return hits;
}

export function sybilFarms(graph: EntityGraph, opts: SybilFarmOptions = {}): SybilFarm[] {
  const now = opts.now ?? graph.getAttribute('watermark') ?? 0;
  const maxAge = opts.maxAgeMs ?? 30 * 86_400_000;
  const minSize = opts.minSize ?? 3;
  const types = new Set<string>(opts.identifierTypes ?? ['uses_device', 'uses_ip']);
  const maxShare = opts.maxShare ?? 1000;
  const tol = opts.toleranceMs ?? 60_000;
  const minLockstep = opts.minLockstep ?? 0.5;
  const minEvents = opts.minEvents ?? 3;

  const young: string[] = [];
  const youngIndex = new Map<string, number>();
  const opened: number[] = [];
  graph.forEachNode((key, a) => {
    if (a.kind !== 'account') return;
    if (opts.openedOnly && a.openedAt === undefined) return;
    const o = a.openedAt ?? a.firstSeen;
    if (now - o > maxAge || o > now) return;
    youngIndex.set(key, young.length);
    young.push(key);
    opened.push(o);
  });
  const uf = new UnionFind(young.length);
  const usedBy = new Map<string, number[]>();
  graph.forEachNode((node, a) => {
    if (a.kind !== 'device' && a.kind !== 'ip') return;
    const users = new Set<number>();
    graph.forEachInEdge(node, (_e, ea, source) => {
      if (!types.has(ea.type)) return;
      const i = youngIndex.get(source);
      if (i !== undefined) users.add(i);
    });
    if (users.size < 2 || users.size > maxShare) return;
    const list = [...users].sort((x, y) => x - y);
    usedBy.set(node, list);
    for (let i = 1; i < list.length; i++) uf.union(list[0], list[i]);
  });
  const groups = new Map<number, number[]>();
  for (let i = 0; i < young.length; i++) {
    if (uf.sizeOf(i) < minSize) continue;
    const r = uf.find(i);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(i);
  }
  const activity = (i: number): number[] => {
    const act = graph.getNodeAttribute(young[i], 'activity') ?? [];
    return act.slice().sort((x, y) => x - y);
  };
  const farms: SybilFarm[] = [];
  for (const members of groups.values()) {
    const acts = members.map(activity);
    const judged = members.map((_m, k) => acts[k].length >= minEvents);
    const local = new UnionFind(members.length);
    const pairCo: { x: number; y: number; co: number }[] = [];
    for (let x = 0; x < members.length; x++) {
      if (!judged[x]) continue;
      for (let y = x + 1; y < members.length; y++) {
        if (!judged[y]) continue;
        const co = coActivity(acts[x], acts[y], tol);
        if (co >= minLockstep) {
          local.union(x, y);
          pairCo.push({ x, y, co });
        }
      }
    }
    const subs = new Map<number, number[]>();
    for (let x = 0; x < members.length; x++) {
      if (local.sizeOf(x) < minSize) continue;
      const r = local.find(x);
      let g = subs.get(r);
      if (!g) subs.set(r, (g = []));
      g.push(x);
    }
    for (const sub of subs.values()) {
      const inSub = new Set(sub);
      const names = sub.map((x) => young[members[x]]).sort();
      const pairs = pairCo
        .filter((p) => inSub.has(p.x) && inSub.has(p.y))
        .map((p) => {
          const a = young[members[p.x]];
          const b = young[members[p.y]];
          return { a: a < b ? a : b, b: a < b ? b : a, coActivity: Math.round(p.co * 1e4) / 1e4 };
        })
        .sort((p, q) => q.coActivity - p.coActivity || (p.a < q.a ? -1 : p.a > q.a ? 1 : p.b < q.b ? -1 : 1));
      const cos = pairs.map((p) => p.coActivity).sort((p, q) => p - q);
      const lockstep = cos.length ? cos[Math.floor((cos.length - 1) / 2)] : 0;
      const memberIdx = new Set(sub.map((x) => members[x]));
      const identifiers: { node: string; members: number }[] = [];
      for (const [node, users] of usedBy) {
        const c = users.filter((u) => memberIdx.has(u)).length;
        if (c >= 2) identifiers.push({ node, members: c });
      }
      identifiers.sort((p, q) => q.members - p.members || (p.node < q.node ? -1 : 1));
      const op = sub.map((x) => opened[members[x]]);
      const events = sub.reduce((s, x) => s + acts[x].length, 0);
      const size = names.length;
      const score = Math.round(lockstep * (1 - 1 / size) * 1e4) / 1e4;
      farms.push({
        id: 0,
        members: names,
        size,
        identifiers: identifiers.slice(0, 50),
        lockstep,
        pairs: pairs.slice(0, 20),
        openedFrom: Math.min(...op),
        openedTo: Math.max(...op),
        events,
        score,
        reason:
          `${size} accounts opened within ${fmtSpan(Math.max(...op) - Math.min(...op))} of each other share ` +
          `${identifiers.length} device/IP identifier${identifiers.length === 1 ? '' : 's'}` +
          (identifiers[0] ? ` (e.g. ${identifiers[0].node} used by ${identifiers[0].members})` : '') +
          ` and act in lockstep: median co-activity ${(lockstep * 100).toFixed(0)}% within ±${tol / 1000}s`,
      });
    }
  }
  farms.sort((p, q) => q.score - p.score || q.size - p.size || (p.members[0] < q.members[0] ? -1 : 1));
  farms.forEach((f, i) => (f.id = i));
  return farms;
}

function fmtSpan(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}
