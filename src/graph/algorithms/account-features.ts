import { bfsDistances } from '../csr.js';
import { csrView, type CsrView } from '../graph-csr.js';
import type { EntityGraph } from '../entity-graph.js';
import { linkedClusters, type LinkedClustersOptions, type LinkedClustersResult } from './linked-clusters.js';
import { riskPropagation } from './risk-propagation.js';

/**
 * Per-account graph features, for rules and scores. All are plain numbers (or -1 for "none") so a
 * rule engine or a model can use them directly, and each has an obvious meaning:
 *
 *   devices, ips, depositAddresses, withdrawalAddresses  distinct identifiers the account used
 *   transferOut, transferIn       distinct internal-transfer counterparties, each way
 *   tradeCounterparties           distinct trade counterparties (either side)
 *   sharedDeviceAccounts          other accounts using any of its devices
 *   sharedIpAccounts              other accounts using any of its IPs
 *   sharedAddressAccounts         other accounts using any of its deposit/withdrawal addresses
 *   clusterId, clusterSize        its linked-account cluster (-1 / 1 when alone)
 *   pprScore, pprLift             personalised PageRank from the flagged seeds (lift = score · n)
 *   hopsToFlagged, nearestFlagged hops to the nearest flagged node through the entity graph (-1 none)
 *   ageMs                         now − opened (or first seen)
 */
export interface AccountFeatures {
  account: string;
  devices: number;
  ips: number;
  depositAddresses: number;
  withdrawalAddresses: number;
  transferOut: number;
  transferIn: number;
  tradeCounterparties: number;
  sharedDeviceAccounts: number;
  sharedIpAccounts: number;
  sharedAddressAccounts: number;
  clusterId: number;
  clusterSize: number;
  pprScore: number;
  pprLift: number;
  hopsToFlagged: number;
  nearestFlagged: string | null;
  ageMs: number;
}

export interface AccountFeatureOptions {
  /** Flagged node keys (accounts, addresses, devices…) seeding PPR and distances. */
  flagged?: readonly string[];
  /** Precomputed clusters (else computed with `clusterOptions`). */
  clusters?: LinkedClustersResult;
  clusterOptions?: LinkedClustersOptions;
  /** Longest path searched for hopsToFlagged. Default 6. */
  maxHops?: number;
  now?: number;
  /**
   * Count only edges first seen at or before this event time (and take it as "now"): the features an
   * online rule or score would have seen then. Clusters and PageRank are computed on the whole graph.
   * For streaming use, GraphFeatures (src/graph/features.ts) answers the same counts per event.
   */
  asOf?: number;
  /** Only these accounts (default all). */
  accounts?: readonly string[];
}

export function accountFeatures(graph: EntityGraph, opts: AccountFeatureOptions = {}): Map<string, AccountFeatures> {
  const asOf = opts.asOf ?? Infinity;
  const now = opts.now ?? opts.asOf ?? graph.getAttribute('watermark') ?? 0;
  const clusters = opts.clusters ?? linkedClusters(graph, opts.clusterOptions);
  const flagged = (opts.flagged ?? []).filter((k) => graph.hasNode(k));
  let ppr: { score(node: string): number } | null = null;
  let dist: Int32Array | null = null;
  let parent: Int32Array | null = null;
  let view: CsrView | null = null;
  if (flagged.length) {
    view = csrView(graph, { weight: (a) => 1 + Math.log(Math.max(1, a.count)), undirected: true });
    ppr = riskPropagation(graph, flagged, { view, top: 0 });
    const idx = flagged.map((k) => view!.index.get(k)!);
    ({ dist, parent } = bfsDistances(view.csr, idx, opts.maxHops ?? 6));
  }
  const n = graph.order;
  const accounts = opts.accounts ?? graph.filterNodes((_k, a) => a.kind === 'account');
  const out = new Map<string, AccountFeatures>();
  for (const acc of accounts) {
    if (!graph.hasNode(acc)) continue;
    const attrs = graph.getNodeAttributes(acc);
    const f: AccountFeatures = {
      account: acc,
      devices: 0,
      ips: 0,
      depositAddresses: 0,
      withdrawalAddresses: 0,
      transferOut: 0,
      transferIn: 0,
      tradeCounterparties: 0,
      sharedDeviceAccounts: 0,
      sharedIpAccounts: 0,
      sharedAddressAccounts: 0,
      clusterId: clusters.clusterOf.get(acc) ?? -1,
      clusterSize: 1,
      pprScore: 0,
      pprLift: 0,
      hopsToFlagged: -1,
      nearestFlagged: null,
      ageMs: now - (attrs.openedAt ?? attrs.firstSeen),
    };
    if (f.clusterId >= 0) f.clusterSize = clusters.clusters[f.clusterId].size;
    const sharedDev = new Set<string>();
    const sharedIp = new Set<string>();
    const sharedAddr = new Set<string>();
    const tradeCp = new Set<string>();
    const users = (node: string, into: Set<string>) =>
      graph.forEachInEdge(node, (_e, a2, o) => {
        if (o !== acc && a2.firstSeen <= asOf) into.add(o);
      });
    graph.forEachOutEdge(acc, (_e, ea, _s, target) => {
      if (ea.firstSeen > asOf) return;
      switch (ea.type) {
        case 'uses_device':
          f.devices++;
          users(target, sharedDev);
          break;
        case 'uses_ip':
          f.ips++;
          users(target, sharedIp);
          break;
        case 'deposits_from':
        case 'withdraws_to':
          if (ea.type === 'deposits_from') f.depositAddresses++;
          else f.withdrawalAddresses++;
          users(target, sharedAddr);
          break;
        case 'transfers_to':
          f.transferOut++;
          break;
        case 'trades_with':
          tradeCp.add(target);
          break;
      }
    });
    graph.forEachInEdge(acc, (_e, ea, source) => {
      if (ea.firstSeen > asOf) return;
      if (ea.type === 'transfers_to') f.transferIn++;
      else if (ea.type === 'trades_with') tradeCp.add(source);
    });
    f.sharedDeviceAccounts = sharedDev.size;
    f.sharedIpAccounts = sharedIp.size;
    f.sharedAddressAccounts = sharedAddr.size;
    f.tradeCounterparties = tradeCp.size;
    if (ppr && view && dist && parent) {
      f.pprScore = ppr.score(acc);
      f.pprLift = f.pprScore * n;
      const i = view.index.get(acc)!;
      f.hopsToFlagged = dist[i];
      if (dist[i] >= 0) {
        let u = i;
        while (parent[u] >= 0) u = parent[u];
        f.nearestFlagged = view.nodes[u];
      }
    }
    out.set(acc, f);
  }
  return out;
}
