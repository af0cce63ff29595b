import type { ExchangeEvent } from '../events/schema.js';
import { EntityGraphBuilder, type EntityEdgeType, type IdentifierEdgeType } from './entity-graph.js';
import { DEFAULT_PRIORS, identifierWeight } from './algorithms/linked-clusters.js';

/**
 * Linked accounts in event time, for surveillance (`ctx.links`): an entity graph built incrementally
 * from the account-level events (logins, API key use, deposits, withdrawals, internal transfers,
 * account openings), queried on demand.
 *
 * Two accounts are linked when what ties them sums to at least `threshold`, each tie weighted by how
 * telling it is, exactly as in linkedClusters: a shared identifier weighs
 * `prior(type) · clamp(ln(maxShare / df) / ln(maxShare / 2), 0, 1)` for the df accounts sharing it
 * (device 1, withdrawal address 1, deposit address 0.8, IP 0.4); an internal transfer between them
 * weighs `prior(transfers_to)` (1) by the same IDF over the larger transfer degree of the two, so a
 * treasury paying hundreds of accounts links none of them. A device shared by a handful of accounts
 * links them on its own; an office IP does not.
 *
 * Events carrying a market (orders, trades) are ignored on purpose: they are split across workers,
 * and every partition must hold the same links for `--workers N` to equal one worker. Static groups
 * (config `links.groups`) are always linked.
 */
export type LinkEdgeType = IdentifierEdgeType | 'transfers_to';

export interface GraphLinksOptions {
  /** Prior per tie type. Default: device 1, withdrawal address 1, deposit address 0.8, IP 0.4, internal transfer 1. */
  priors?: Partial<Record<LinkEdgeType, number>>;
  /** Identifiers shared by this many accounts or more carry nothing. Default 500. */
  maxShare?: number;
  /** Identifiers shared by more accounts than this are not expanded into pairs (bounds the work). Default 200. */
  pairCap?: number;
  /** Summed weight that links two accounts. Default 0.6. */
  threshold?: number;
  /** Accounts always linked to each other (e.g. declared groups from config). */
  groups?: readonly (readonly string[])[];
  /** Share a builder fed elsewhere (then `onEvent` here does not feed it). It must keep adjacency. */
  builder?: EntityGraphBuilder;
}

export interface LinkEvidence {
  account: string;
  weight: number;
  /** What ties them: node keys (`device:…`, `ip:…`, `address:…`, `transfer`) with their weights, strongest first. */
  via: { node: string; weight: number }[];
}

const ACCOUNT_LEVEL = new Set(['account.opened', 'login', 'api_key.used', 'deposit', 'withdrawal', 'transfer.internal']);
const NONE: readonly string[] = Object.freeze([]);

export class GraphLinks {
  readonly builder: EntityGraphBuilder;
  private readonly feeds: boolean;
  private readonly priors: Record<LinkEdgeType, number>;
  private readonly maxShare: number;
  private readonly pairCap: number;
  readonly threshold: number;
  private readonly groupOf = new Map<string, Set<string>>();
  private readonly cache = new Map<string, { stamp: number; linked: readonly string[]; ties: Map<string, LinkEvidence> }>();

  constructor(opts: GraphLinksOptions = {}) {
    this.builder = opts.builder ?? new EntityGraphBuilder({ adjacency: true, activityCap: 8 });
    this.feeds = opts.builder === undefined;
    this.priors = { ...DEFAULT_PRIORS, transfers_to: 1, ...opts.priors };
    this.maxShare = opts.maxShare ?? 500;
    this.pairCap = opts.pairCap ?? 200;
    this.threshold = opts.threshold ?? 0.6;
    for (const g of opts.groups ?? []) {
      for (const a of g) {
        let set = this.groupOf.get(a);
        if (!set) this.groupOf.set(a, (set = new Set()));
        for (const b of g) if (b !== a) set.add(b);
      }
    }
  }

  onEvent(e: ExchangeEvent): void {
    if (!this.feeds || !ACCOUNT_LEVEL.has(e.type) || (e as { market?: unknown }).market !== undefined) return;
    this.builder.onEvent(e);
  }

  /** Accounts linked to this one now (sorted, not including itself). */
  linked(accountId: string): readonly string[] {
    return this.current(accountId).linked;
  }

  areLinked(a: string, b: string): boolean {
    return a !== b && this.linked(a).includes(b);
  }

  /** Why two accounts are tied (summed weight, what ties them, strongest first); null if nothing does. Links are ties at or above the threshold. */
  evidence(a: string, b: string): LinkEvidence | null {
    if (this.groupOf.get(a)?.has(b)) return { account: b, weight: Infinity, via: [{ node: 'group', weight: Infinity }] };
    return this.current(a).ties.get(b) ?? null;
  }

  /**
   * The account's links and ties now, recomputed only when an edge was added since at the account or
   * at one of its neighbours (its identifiers, whose users decide their weight, and its transfer
   * counterparties, whose transfer degree does): nothing else enters ties().
   */
  private current(accountId: string): { linked: readonly string[]; ties: Map<string, LinkEvidence> } {
    const stamp = this.builder.newEdges;
    const hit = this.cache.get(accountId);
    if (hit !== undefined && (hit.stamp === stamp || this.unchangedSince(accountId, hit.stamp))) {
      hit.stamp = stamp;
      return hit;
    }
    const ties = new Map<string, LinkEvidence>();
    const out = new Set<string>(this.groupOf.get(accountId) ?? []);
    for (const l of this.ties(accountId)) {
      ties.set(l.account, l);
      if (l.weight >= this.threshold) out.add(l.account);
    }
    const entry = { stamp, linked: out.size ? [...out].sort() : NONE, ties };
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(accountId, entry);
    return entry;
  }

  /** No edge was added at the account or at any of its neighbours after `stamp` (a newEdges value). */
  private unchangedSince(accountId: string, stamp: number): boolean {
    const b = this.builder;
    const me = b.nodeId('account', accountId);
    if (me === undefined) return true; // still unknown: still no ties
    if (b.lastNewEdge(me) > stamp) return false;
    let ok = true;
    b.forEachNeighbor(me, (nb) => {
      if (ok && b.lastNewEdge(nb) > stamp) ok = false;
    });
    return ok;
  }

  /** When the account was opened, if its account.opened event was seen. */
  openedAt(accountId: string): number | undefined {
    const i = this.builder.nodeId('account', accountId);
    return i === undefined ? undefined : this.builder.nodeAttributes(i).openedAt;
  }

  /** Every account tied to this one by anything, with the summed weight (links are those at or above the threshold). */
  ties(accountId: string, asOf = Infinity): LinkEvidence[] {
    const b = this.builder;
    const me = b.nodeId('account', accountId);
    if (me === undefined) return [];
    const acc = new Map<number, LinkEvidence>();
    const add = (other: number, node: string, w: number) => {
      if (other === me || w <= 0) return;
      let l = acc.get(other);
      if (!l) acc.set(other, (l = { account: b.nodeAttributes(other).id, weight: 0, via: [] }));
      l.weight += w;
      l.via.push({ node, weight: w });
    };
    const seenIdentifier = new Set<number>();
    b.forEachNeighbor(me, (nb, type, incoming, edge) => {
      if (edge.firstSeen > asOf) return;
      if (type === 'transfers_to') {
        const df = 1 + Math.max(this.transferDegree(me, asOf), this.transferDegree(nb, asOf));
        add(nb, 'transfer', identifierWeight(this.priors.transfers_to, df, this.maxShare));
        return;
      }
      if (incoming || type === 'trades_with' || seenIdentifier.has(nb)) return;
      seenIdentifier.add(nb);
      // The identifier's users (distinct accounts) and its best type's weight.
      const users = new Set<number>();
      let best = 0;
      b.forEachNeighbor(nb, (u, t, inc, e) => {
        if (!inc || e.firstSeen > asOf) return;
        users.add(u);
        const p = this.priors[t as LinkEdgeType] ?? 0;
        if (p > best) best = p;
      });
      if (users.size < 2 || users.size > this.pairCap) return;
      const w = identifierWeight(best, users.size, this.maxShare);
      const n = b.nodeAttributes(nb);
      for (const u of users) add(u, `${n.kind}:${n.id}`, w);
    });
    const out = [...acc.values()];
    for (const l of out) {
      l.weight = Math.round(l.weight * 1e6) / 1e6;
      l.via.sort((x, y) => y.weight - x.weight || (x.node < y.node ? -1 : 1));
    }
    return out.sort((x, y) => y.weight - x.weight || (x.account < y.account ? -1 : 1));
  }

  private transferDegree(i: number, asOf: number): number {
    const seen = new Set<number>();
    this.builder.forEachNeighbor(i, (nb, t: EntityEdgeType, _inc, e) => {
      if (t === 'transfers_to' && e.firstSeen <= asOf) seen.add(nb);
    });
    return seen.size;
  }
}
