import { UndirectedGraph } from 'graphology';
import type { AbstractGraph } from 'graphology-types';
import { UnionFind } from '../csr.js';
import { louvain, type LouvainOptions } from './louvain.js';
import type { EntityGraph, IdentifierEdgeType } from '../entity-graph.js';

/**
 * Linked-account clusters: accounts tied together by identifiers they share (devices, IPs, deposit
 * source and withdrawal addresses), where each identifier counts by how telling it is.
 *
 * An identifier shared by df accounts weighs
 *     w = prior(type) · clamp(ln(maxShare / df) / ln(maxShare / 2), 0, 1)
 * an IDF anchored so that an identifier shared by 2 accounts carries its full prior and one shared
 * by `maxShare` or more carries nothing (a mobile carrier's NAT IP, an exchange hot wallet).
 * Two accounts are linked when the weights of everything they share sum to at least `threshold`;
 * clusters are the connected components of those links. Components of `communityMinSize` or more are
 * split into communities with Louvain (Blondel et al. 2008) on the link weights, seeded.
 */
export interface LinkedClustersOptions {
  /** Prior strength per identifier type. Default: device 1, withdrawal address 1, deposit address 0.8, ip 0.4. */
  priors?: Partial<Record<IdentifierEdgeType, number>>;
  /** Identifiers shared by this many accounts or more carry no weight. Default 500. */
  maxShare?: number;
  /** Identifiers shared by more accounts than this link no pairs (their weight is small anyway; this bounds the work). Default 200. */
  pairCap?: number;
  /** Minimum summed weight for two accounts to be linked. Default 0.6 (a device shared by up to ~12 accounts alone; an IP never alone). */
  threshold?: number;
  /** Run Louvain inside components at least this large. Default 8. */
  communityMinSize?: number;
  /** Louvain resolution. Default 1. */
  resolution?: number;
  /** Seed for Louvain's node order. Default 1. */
  seed?: number;
  /** Only identifier edges last seen at or after this event time count. */
  since?: number;
  /** At most this many links are kept per cluster as its explanation. Default 50. */
  maxLinksPerCluster?: number;
}

export interface SharedIdentifier {
  /** Node key, e.g. device:abc. */
  node: string;
  type: IdentifierEdgeType;
  /** Accounts sharing it (in the whole graph). */
  sharedBy: number;
  weight: number;
}

export interface AccountLink {
  a: string;
  b: string;
  weight: number;
  via: { node: string; weight: number }[];
}

export interface LinkedCluster {
  id: number;
  /** Account node keys, sorted. */
  members: string[];
  size: number;
  /** The strongest links inside the cluster, strongest first: the explanation. */
  links: AccountLink[];
  /** Identifiers shared inside the cluster, most telling first. */
  identifiers: SharedIdentifier[];
  /** Mean weight of the links that hold the cluster together. */
  strength: number;
  /** Louvain communities (only for components of communityMinSize or more). */
  communities?: { id: number; members: string[] }[];
  modularity?: number;
}

export interface LinkedClustersResult {
  /** Clusters of 2 or more accounts, largest first. */
  clusters: LinkedCluster[];
  clusterOf: Map<string, number>;
  /** account → `${clusterId}.${communityId}` for accounts in split components. */
  communityOf: Map<string, string>;
  /** The weight of every identifier that linked anything. */
  identifierWeight: Map<string, number>;
}

export const DEFAULT_PRIORS: Record<IdentifierEdgeType, number> = { uses_device: 1, withdraws_to: 1, deposits_from: 0.8, uses_ip: 0.4 };

/** The IDF-like weight of an identifier shared by df accounts. */
export function identifierWeight(prior: number, df: number, maxShare: number): number {
  if (df < 2 || df >= maxShare) return df < 2 ? prior : 0;
  const w = Math.log(maxShare / df) / Math.log(maxShare / 2);
  return prior * Math.min(1, Math.max(0, w));
}

export function linkedClusters(graph: EntityGraph, opts: LinkedClustersOptions = {}): LinkedClustersResult {
  const priors = { ...DEFAULT_PRIORS, ...opts.priors };
  const maxShare = opts.maxShare ?? 500;
  const threshold = opts.threshold ?? 0.6;
  const minCommunity = opts.communityMinSize ?? 8;
  const since = opts.since ?? -Infinity;
  const maxLinks = opts.maxLinksPerCluster ?? 50;
  const pairCap = opts.pairCap ?? 200;

  // Dense ids for accounts.
  const accounts: string[] = [];
  const accIndex = new Map<string, number>();
  graph.forEachNode((key, a) => {
    if (a.kind === 'account') {
      accIndex.set(key, accounts.length);
      accounts.push(key);
    }
  });

  // Pair weights: key = lo * n + hi (fits a double exactly for n < 2^26).
  const n = accounts.length;
  const pairWeight = new Map<number, number>();
  const pairVia = new Map<number, { node: string; weight: number }[]>();
  const identifierWeights = new Map<string, number>();
  const identifierInfo = new Map<string, SharedIdentifier>();
  graph.forEachNode((node, attrs) => {
    if (attrs.kind === 'account') return;
    // Accounts using this identifier, by edge type (an address can be both a deposit source and a withdrawal target).
    const byType = new Map<IdentifierEdgeType, Set<number>>();
    graph.forEachInEdge(node, (_e, ea, source) => {
      if (ea.lastSeen < since) return;
      const t = ea.type as IdentifierEdgeType;
      if (!(t in priors)) return;
      const i = accIndex.get(source);
      if (i === undefined) return;
      let set = byType.get(t);
      if (!set) byType.set(t, (set = new Set()));
      set.add(i);
    });
    // The identifier's weight is its best type's; its users are all accounts touching it.
    const users = new Set<number>();
    let best = 0;
    let bestType: IdentifierEdgeType | null = null;
    for (const [, set] of byType) for (const i of set) users.add(i);
    const df = users.size;
    if (df < 2) return;
    for (const [t] of byType) {
      const w = identifierWeight(priors[t], df, maxShare);
      if (w > best) {
        best = w;
        bestType = t;
      }
    }
    if (best <= 0 || !bestType || df > pairCap) return;
    identifierWeights.set(node, best);
    identifierInfo.set(node, { node, type: bestType, sharedBy: df, weight: best });
    const list = [...users].sort((x, y) => x - y);
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        const key = list[x] * n + list[y];
        pairWeight.set(key, (pairWeight.get(key) ?? 0) + best);
        let via = pairVia.get(key);
        if (!via) pairVia.set(key, (via = []));
        via.push({ node, weight: best });
      }
    }
  });

  const uf = new UnionFind(n);
  const strong: number[] = [];
  for (const [key, w] of pairWeight) {
    if (w < threshold) continue;
    strong.push(key);
    uf.union(Math.floor(key / n), key % n);
  }
  strong.sort((a, b) => a - b);

  // Group members and links by component root.
  const byRoot = new Map<number, { members: number[]; links: number[] }>();
  for (let i = 0; i < n; i++) {
    if (uf.sizeOf(i) < 2) continue;
    const r = uf.find(i);
    let c = byRoot.get(r);
    if (!c) byRoot.set(r, (c = { members: [], links: [] }));
    c.members.push(i);
  }
  for (const key of strong) byRoot.get(uf.find(Math.floor(key / n)))!.links.push(key);

  const groups = [...byRoot.values()].map((g) => ({ ...g, names: g.members.map((i) => accounts[i]).sort() }));
  groups.sort((a, b) => b.members.length - a.members.length || (a.names[0] < b.names[0] ? -1 : 1));

  const clusters: LinkedCluster[] = [];
  const clusterOf = new Map<string, number>();
  const communityOf = new Map<string, string>();
  groups.forEach((g, id) => {
    const links: AccountLink[] = g.links.map((key) => {
      const a = accounts[Math.floor(key / n)];
      const b = accounts[key % n];
      const via = [...pairVia.get(key)!].sort((x, y) => y.weight - x.weight || (x.node < y.node ? -1 : 1));
      return { a: a < b ? a : b, b: a < b ? b : a, weight: round(pairWeight.get(key)!), via: via.map((v) => ({ node: v.node, weight: round(v.weight) })) };
    });
    links.sort((x, y) => y.weight - x.weight || (x.a < y.a ? -1 : x.a > y.a ? 1 : x.b < y.b ? -1 : 1));
    const idSet = new Set<string>();
    for (const l of links) for (const v of l.via) idSet.add(v.node);
    const identifiers = [...idSet].map((k) => identifierInfo.get(k)!).map((i) => ({ ...i, weight: round(i.weight) }));
    identifiers.sort((x, y) => y.weight - x.weight || (x.node < y.node ? -1 : 1));
    const strength = links.length ? round(links.reduce((s, l) => s + l.weight, 0) / links.length) : 0;
    const cluster: LinkedCluster = { id, members: g.names, size: g.names.length, links: links.slice(0, maxLinks), identifiers, strength };
    for (const m of g.names) clusterOf.set(m, id);
    if (g.names.length >= minCommunity) {
      const sub = new UndirectedGraph();
      for (const m of g.names) sub.addNode(m);
      for (const l of links) sub.addEdge(l.a, l.b, { weight: l.weight });
      const det = louvain(sub, { weight: 'weight', resolution: opts.resolution ?? 1, seed: opts.seed ?? 1 });
      const byCommunity = new Map<number, string[]>();
      for (const m of g.names) {
        const c = det.communities[m];
        let list = byCommunity.get(c);
        if (!list) byCommunity.set(c, (list = []));
        list.push(m);
      }
      const comms = [...byCommunity.values()].sort((a, b) => b.length - a.length || (a[0] < b[0] ? -1 : 1));
      cluster.communities = comms.map((members, cid) => ({ id: cid, members }));
      cluster.modularity = round(det.modularity);
      comms.forEach((members, cid) => members.forEach((m) => communityOf.set(m, `${id}.${cid}`)));
    }
    clusters.push(cluster);
  });
  return { clusters, clusterOf, communityOf, identifierWeight: identifierWeights };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Louvain communities of any graphology graph (edges as undirected), seeded: see ./louvain.ts. */
export function louvainCommunities(graph: AbstractGraph, opts: LouvainOptions = {}): { communities: Record<string, number>; count: number; modularity: number } {
  const r = louvain(graph, opts);
  return { communities: r.communities, count: r.count, modularity: r.modularity };
}
