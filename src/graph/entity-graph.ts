import { MultiDirectedGraph } from 'graphology';
import type { ExchangeEvent } from '../events/schema.js';
import type { Operator } from '../pipeline/types.js';
import { normalizeAddress } from '../chain/address.js';

/**
 * The entity graph: accounts and the identifiers and counterparties that tie them together.
 *
 * Nodes (key = `kind:id`):
 *   account:ID, device:FINGERPRINT, ip:ADDRESS, address:CHAIN-ADDRESS (normalised, chain-independent key)
 * Edges (one per type and ordered pair, key = `type|from|to`), all from an account:
 *   uses_device    account → device         (successful logins)
 *   uses_ip        account → ip             (logins, API key use, orders carrying an ip)
 *   deposits_from  account → address        (the address a deposit came from), weight = amount
 *   withdraws_to   account → address        (the address a withdrawal went to), weight = amount
 *   transfers_to   account → account        (internal transfers), weight = amount
 *   trades_with    seller  → buyer          (trade counterparties, base asset flow), weight = notional, qty = base size
 * Every node and edge carries first/last seen in event time and a count. Flow edges also keep
 * per-bucket volumes (bucket = `bucketMs` of event time, per market) so windowed algorithms (rings,
 * layering) can work from the graph alone.
 */
export type EntityKind = 'account' | 'device' | 'ip' | 'address';
export type IdentifierEdgeType = 'uses_device' | 'uses_ip' | 'deposits_from' | 'withdraws_to';
export type FlowEdgeType = 'transfers_to' | 'trades_with';
export type EntityEdgeType = IdentifierEdgeType | FlowEdgeType;

export const IDENTIFIER_EDGE_TYPES: readonly IdentifierEdgeType[] = ['uses_device', 'uses_ip', 'deposits_from', 'withdraws_to'];
export const FLOW_EDGE_TYPES: readonly FlowEdgeType[] = ['transfers_to', 'trades_with'];

export interface EntityNodeAttributes {
  kind: EntityKind;
  /** The raw id (account id, fingerprint, ip, normalised address). */
  id: string;
  firstSeen: number;
  lastSeen: number;
  /** Events that touched this node. */
  events: number;
  /** account: when account.opened said it was opened. */
  openedAt?: number;
  referrerId?: string;
  country?: string;
  kycLevel?: number;
  /** account: event times of its recent activity (bounded; oldest dropped), for lockstep analysis. */
  activity?: number[];
  failedLogins?: number;
  selfTrades?: number;
  /** address: chains it was seen on. */
  chains?: string[];
}

export interface EntityEdgeAttributes {
  type: EntityEdgeType;
  /** Amount (transfers, deposits, withdrawals) or notional (trades) summed, as numbers. */
  weight: number;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** trades_with: base quantity summed. */
  qty?: number;
  /**
   * Flow edges: per time bucket and market, flat [bucketStart, marketIndex, qty, value, count, …].
   * marketIndex points into the graph attribute `markets` (-1 for none, e.g. transfers).
   */
  buckets?: number[];
}

export interface EntityGraphAttributes {
  markets: string[];
  bucketMs: number;
  /** Latest event time seen (the graph's "now" in event time). */
  watermark: number;
  [key: string]: unknown;
}

export type EntityGraph = MultiDirectedGraph<EntityNodeAttributes, EntityEdgeAttributes, EntityGraphAttributes>;

export function nodeKey(kind: EntityKind, id: string): string {
  return `${kind}:${id}`;
}
export const accountKey = (id: string): string => `account:${id}`;
export const addressKey = (address: string): string => `address:${normalizeAddress(address)}`;

/** The id part of a node key. */
export function keyId(key: string): string {
  return key.slice(key.indexOf(':') + 1);
}

export function edgeKey(type: EntityEdgeType, from: string, to: string): string {
  return `${type}|${from}|${to}`;
}

export function createEntityGraph(bucketMs = 60_000): EntityGraph {
  const g: EntityGraph = new MultiDirectedGraph<EntityNodeAttributes, EntityEdgeAttributes, EntityGraphAttributes>({ allowSelfLoops: false });
  g.replaceAttributes({ markets: [], bucketMs, watermark: 0 });
  return g;
}

export interface EntityGraphBuilderOptions {
  graph?: EntityGraph;
  /** Turns an asset amount into a comparable number (e.g. its USD value). Default: the amount as a number. */
  value?: (asset: string, amount: string, ts: number) => number;
  /** Width of a flow bucket, ms of event time. Default 60,000 (one minute). */
  bucketMs?: number;
  /** Most buckets kept per flow edge (oldest dropped). Default 2,048. */
  maxBucketsPerEdge?: number;
  /** Most activity times kept per account. Default 256. */
  activityCap?: number;
}

const BUCKET_STRIDE = 5;

/**
 * Builds the entity graph incrementally from canonical events (an Operator, so it sits in the replay
 * pipeline like any other stage). Updates mutate attribute objects in place: graphology's structure
 * only changes when a node or edge is new.
 */
export class EntityGraphBuilder implements Operator {
  readonly graph: EntityGraph;
  /** Edge updates applied (new edges and updates of existing ones). */
  edgeUpdates = 0;
  events = 0;
  private readonly value: (asset: string, amount: string, ts: number) => number;
  private readonly bucketMs: number;
  private readonly maxBuckets: number;
  private readonly activityCap: number;
  private readonly marketIndex = new Map<string, number>();

  constructor(opts: EntityGraphBuilderOptions = {}) {
    this.bucketMs = opts.bucketMs ?? opts.graph?.getAttribute('bucketMs') ?? 60_000;
    this.graph = opts.graph ?? createEntityGraph(this.bucketMs);
    this.value = opts.value ?? ((_a, amount) => Number(amount));
    this.maxBuckets = opts.maxBucketsPerEdge ?? 2048;
    this.activityCap = opts.activityCap ?? 256;
    const markets = this.graph.getAttribute('markets') ?? [];
    markets.forEach((m, i) => this.marketIndex.set(m, i));
  }

  onEvent(e: ExchangeEvent): void {
    this.events++;
    const attrs = this.graph.getAttributes();
    if (e.ts > attrs.watermark) attrs.watermark = e.ts;
    switch (e.type) {
      case 'account.opened': {
        const a = this.touch('account', e.accountId, e.ts);
        a.openedAt = a.openedAt === undefined ? e.ts : Math.min(a.openedAt, e.ts);
        if (e.referrerId) a.referrerId = e.referrerId;
        if (e.country) a.country = e.country;
        if (e.kycLevel !== undefined) a.kycLevel = e.kycLevel;
        return;
      }
      case 'login': {
        const acc = accountKey(e.accountId);
        const a = this.touch('account', e.accountId, e.ts);
        if (e.success === false) {
          a.failedLogins = (a.failedLogins ?? 0) + 1;
          return;
        }
        this.activity(a, e.ts);
        if (e.deviceId) this.link('uses_device', acc, this.touchKey('device', e.deviceId, e.ts), e.ts, 0);
        if (e.ip) this.link('uses_ip', acc, this.touchKey('ip', e.ip, e.ts), e.ts, 0);
        return;
      }
      case 'api_key.used': {
        const a = this.touch('account', e.accountId, e.ts);
        this.activity(a, e.ts);
        this.link('uses_ip', accountKey(e.accountId), this.touchKey('ip', e.ip, e.ts), e.ts, 0);
        return;
      }
      case 'order.placed': {
        const a = this.touch('account', e.accountId, e.ts);
        this.activity(a, e.ts);
        if (e.ip) this.link('uses_ip', accountKey(e.accountId), this.touchKey('ip', e.ip, e.ts), e.ts, 0);
        return;
      }
      case 'deposit':
      case 'withdrawal': {
        const a = this.touch('account', e.accountId, e.ts);
        this.activity(a, e.ts);
        const addr = normalizeAddress(e.address);
        const key = this.touchKey('address', addr, e.ts);
        const node = this.graph.getNodeAttributes(key);
        const chain = e.chain.toLowerCase();
        if (!node.chains) node.chains = [chain];
        else if (!node.chains.includes(chain)) node.chains.push(chain);
        this.link(e.type === 'deposit' ? 'deposits_from' : 'withdraws_to', accountKey(e.accountId), key, e.ts, this.value(e.asset, e.amount, e.ts));
        return;
      }
      case 'transfer.internal': {
        if (e.fromAccountId === e.toAccountId) return;
        this.activity(this.touch('account', e.fromAccountId, e.ts), e.ts);
        this.activity(this.touch('account', e.toAccountId, e.ts), e.ts);
        const v = this.value(e.asset, e.amount, e.ts);
        const edge = this.link('transfers_to', accountKey(e.fromAccountId), accountKey(e.toAccountId), e.ts, v);
        this.bucket(edge, e.ts, -1, Number(e.amount), v);
        return;
      }
      case 'trade': {
        const maker = e.makerAccountId;
        const taker = e.takerAccountId;
        if (!maker || !taker) return;
        const m = this.touch('account', maker, e.ts);
        this.activity(m, e.ts);
        if (maker === taker) {
          m.selfTrades = (m.selfTrades ?? 0) + 1;
          return;
        }
        this.activity(this.touch('account', taker, e.ts), e.ts);
        // Base asset flows seller → buyer. With an unknown aggressor, maker → taker keeps the pair without claiming a side.
        const takerBuys = e.aggressor !== 'sell';
        const seller = takerBuys ? maker : taker;
        const buyer = takerBuys ? taker : maker;
        const qty = Number(e.size);
        const notional = qty * Number(e.price);
        const edge = this.link('trades_with', accountKey(seller), accountKey(buyer), e.ts, notional);
        edge.qty = (edge.qty ?? 0) + qty;
        this.bucket(edge, e.ts, this.market(e.market), qty, notional);
        return;
      }
      default: {
        if ('accountId' in e && typeof e.accountId === 'string') this.activity(this.touch('account', e.accountId, e.ts), e.ts);
      }
    }
  }

  /** Ensures a node exists and marks it seen at ts; returns its attributes (mutable). */
  touch(kind: EntityKind, id: string, ts: number): EntityNodeAttributes {
    const key = `${kind}:${id}`;
    const g = this.graph;
    if (!g.hasNode(key)) {
      const attrs: EntityNodeAttributes = { kind, id, firstSeen: ts, lastSeen: ts, events: 1 };
      g.addNode(key, attrs);
      return attrs;
    }
    const a = g.getNodeAttributes(key);
    if (ts < a.firstSeen) a.firstSeen = ts;
    if (ts > a.lastSeen) a.lastSeen = ts;
    a.events++;
    return a;
  }

  private touchKey(kind: EntityKind, id: string, ts: number): string {
    this.touch(kind, id, ts);
    return `${kind}:${id}`;
  }

  /** Adds or updates the edge of this type between two existing nodes. */
  link(type: EntityEdgeType, from: string, to: string, ts: number, weight: number): EntityEdgeAttributes {
    const key = `${type}|${from}|${to}`;
    const g = this.graph;
    this.edgeUpdates++;
    if (!g.hasEdge(key)) {
      const attrs: EntityEdgeAttributes = { type, weight, count: 1, firstSeen: ts, lastSeen: ts };
      g.addDirectedEdgeWithKey(key, from, to, attrs);
      return attrs;
    }
    const a = g.getEdgeAttributes(key);
    a.weight += weight;
    a.count++;
    if (ts < a.firstSeen) a.firstSeen = ts;
    if (ts > a.lastSeen) a.lastSeen = ts;
    return a;
  }

  private activity(a: EntityNodeAttributes, ts: number): void {
    const act = a.activity ?? (a.activity = []);
    act.push(ts);
    if (act.length >= 2 * this.activityCap) act.splice(0, act.length - this.activityCap);
  }

  private market(m: string): number {
    let i = this.marketIndex.get(m);
    if (i === undefined) {
      const markets = this.graph.getAttribute('markets');
      i = markets.length;
      markets.push(m);
      this.marketIndex.set(m, i);
    }
    return i;
  }

  private bucket(edge: EntityEdgeAttributes, ts: number, market: number, qty: number, value: number): void {
    const start = ts - (((ts % this.bucketMs) + this.bucketMs) % this.bucketMs);
    const b = edge.buckets ?? (edge.buckets = []);
    // Events arrive nearly in time order: look back over the last few buckets only.
    for (let i = b.length - BUCKET_STRIDE, seen = 0; i >= 0 && seen < 8; i -= BUCKET_STRIDE, seen++) {
      if (b[i] === start && b[i + 1] === market) {
        b[i + 2] += qty;
        b[i + 3] += value;
        b[i + 4]++;
        return;
      }
      if (b[i] < start) break;
    }
    b.push(start, market, qty, value, 1);
    if (b.length > this.maxBuckets * BUCKET_STRIDE * 2) b.splice(0, b.length - this.maxBuckets * BUCKET_STRIDE);
  }
}

export interface FlowRecord {
  from: string;
  to: string;
  type: FlowEdgeType;
  /** Bucket start, ms. */
  ts: number;
  market: string | null;
  qty: number;
  value: number;
  count: number;
}

/** The flow edges' bucketed volumes as records (for windowed algorithms), in time order. */
export function flowRecords(graph: EntityGraph, type: FlowEdgeType, opts: { from?: number; to?: number } = {}): FlowRecord[] {
  const markets = graph.getAttribute('markets') ?? [];
  const out: FlowRecord[] = [];
  const lo = opts.from ?? -Infinity;
  const hi = opts.to ?? Infinity;
  graph.forEachEdge((_k, a, s, t) => {
    if (a.type !== type || !a.buckets) return;
    const b = a.buckets;
    for (let i = 0; i < b.length; i += BUCKET_STRIDE) {
      if (b[i] < lo || b[i] >= hi) continue;
      out.push({ from: s, to: t, type, ts: b[i], market: b[i + 1] >= 0 ? markets[b[i + 1]] : null, qty: b[i + 2], value: b[i + 3], count: b[i + 4] });
    }
  });
  out.sort((x, y) => x.ts - y.ts || (x.from < y.from ? -1 : x.from > y.from ? 1 : x.to < y.to ? -1 : x.to > y.to ? 1 : 0));
  return out;
}

export interface EntityGraphSummary {
  nodes: Record<EntityKind, number>;
  edges: Record<EntityEdgeType, number>;
  firstSeen: number | null;
  lastSeen: number | null;
}

export function summarizeEntityGraph(graph: EntityGraph): EntityGraphSummary {
  const nodes: Record<EntityKind, number> = { account: 0, device: 0, ip: 0, address: 0 };
  const edges: Record<EntityEdgeType, number> = { uses_device: 0, uses_ip: 0, deposits_from: 0, withdraws_to: 0, transfers_to: 0, trades_with: 0 };
  let first = Infinity;
  let last = -Infinity;
  graph.forEachNode((_k, a) => {
    nodes[a.kind]++;
  });
  graph.forEachEdge((_k, a) => {
    edges[a.type]++;
    if (a.firstSeen < first) first = a.firstSeen;
    if (a.lastSeen > last) last = a.lastSeen;
  });
  return { nodes, edges, firstSeen: Number.isFinite(first) ? first : null, lastSeen: Number.isFinite(last) ? last : null };
}
