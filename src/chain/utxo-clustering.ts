import { UnionFind } from '../graph/csr.js';
import type { AddressLabels } from './labels.js';
import type { TransferGraph } from './transfers.js';

/**
 * Address clustering for UTXO chains by common-input ownership (Nakamoto 2008 §10; Meiklejohn et al.,
 * "A Fistful of Bitcoins", IMC 2013): the inputs of one transaction are signed by one wallet, so
 * addresses spent together belong together. Union-find over every transaction's input set.
 *
 * CoinJoins break the heuristic (many owners sign one transaction), so transactions that look like one
 * are skipped: at least `coinjoinMinInputs` distinct input addresses and an output value repeated at
 * least `coinjoinMinEqualOutputs` times (Wasabi/Whirlpool/JoinMarket all produce equal-value outputs).
 */
export interface UtxoClusterOptions {
  /** Default 2. */
  coinjoinMinInputs?: number;
  /** Default 3. */
  coinjoinMinEqualOutputs?: number;
  /** Most linking transactions kept per cluster as evidence. Default 20. */
  maxEvidence?: number;
}

export interface AddressCluster {
  id: number;
  addresses: string[];
  size: number;
  /** Transactions whose co-spent inputs joined the cluster. */
  evidence: string[];
}

export interface UtxoClustering {
  clusters: AddressCluster[];
  /** Cluster id for every address that is in a cluster of two or more. */
  clusterOf: Map<string, number>;
  skippedCoinjoins: string[];
  /** The cluster holding the address (normalised), or null. */
  of(address: string): AddressCluster | null;
}

export function isLikelyCoinjoin(inputs: number, outputValues: readonly number[], opts: UtxoClusterOptions = {}): boolean {
  if (inputs < (opts.coinjoinMinInputs ?? 2)) return false;
  const counts = new Map<number, number>();
  let most = 0;
  for (const v of outputValues) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > most) most = c;
  }
  return most >= (opts.coinjoinMinEqualOutputs ?? 3);
}

export function clusterByCommonInput(graph: TransferGraph, opts: UtxoClusterOptions = {}): UtxoClustering {
  const n = graph.addressCount;
  const uf = new UnionFind(n);
  const skipped: string[] = [];
  const linkTx: number[] = [];
  const txCount = graph.utxoTx.length;
  for (let t = 0; t < txCount; t++) {
    const a = graph.utxoOffsets[t];
    const b = graph.utxoOffsets[t + 1];
    if (b - a < 2) continue;
    const outs = graph.utxoOutputValues.slice(graph.utxoOutputOffsets[t], graph.utxoOutputOffsets[t + 1]);
    if (isLikelyCoinjoin(b - a, outs, opts)) {
      skipped.push(graph.txHash(graph.utxoTx[t]) ?? String(t));
      continue;
    }
    let joined = false;
    for (let k = a + 1; k < b; k++) if (uf.union(graph.utxoInputs[a], graph.utxoInputs[k])) joined = true;
    if (joined) linkTx.push(t);
  }
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    if (uf.sizeOf(i) < 2) continue;
    const r = uf.find(i);
    let list = byRoot.get(r);
    if (!list) byRoot.set(r, (list = []));
    list.push(i);
  }
  const groups = [...byRoot.entries()].map(([root, ids]) => ({ root, addresses: ids.map((i) => graph.address(i)).sort() }));
  groups.sort((x, y) => y.addresses.length - x.addresses.length || (x.addresses[0] < y.addresses[0] ? -1 : 1));
  const clusterOf = new Map<string, number>();
  const rootToId = new Map<number, number>();
  const maxEv = opts.maxEvidence ?? 20;
  const clusters: AddressCluster[] = groups.map((g, id) => {
    rootToId.set(g.root, id);
    for (const a of g.addresses) clusterOf.set(a, id);
    return { id, addresses: g.addresses, size: g.addresses.length, evidence: [] };
  });
  for (const t of linkTx) {
    const c = clusters[rootToId.get(uf.find(graph.utxoInputs[graph.utxoOffsets[t]]))!];
    if (c.evidence.length < maxEv) c.evidence.push(graph.txHash(graph.utxoTx[t]) ?? String(t));
  }
  return {
    clusters,
    clusterOf,
    skippedCoinjoins: skipped,
    of(address: string) {
      const id = graph.lookup(address);
      if (id === undefined) return null;
      const c = clusterOf.get(graph.address(id));
      return c === undefined ? null : clusters[c];
    },
  };
}

/**
 * Extends labels to co-clustered addresses: every address sharing a cluster with a labelled one gets
 * the label too, with source `cluster:<labelled address>` so the inference stays visible (and removable).
 */
export function propagateClusterLabels(clustering: UtxoClustering, labels: AddressLabels, opts: { categories?: readonly string[]; ts?: number } = {}): number {
  const want = opts.categories ? new Set(opts.categories) : null;
  let added = 0;
  for (const c of clustering.clusters) {
    const seeds = c.addresses.flatMap((a) => labels.get(a).filter((l) => !l.source.startsWith('cluster:') && (!want || want.has(l.category))));
    for (const l of seeds) {
      for (const a of c.addresses) {
        if (a === l.address) continue;
        if (labels.add({ address: a, chain: l.chain, label: l.label, category: l.category, source: `cluster:${l.address}` }, opts.ts ?? 0)) added++;
      }
    }
  }
  return added;
}
