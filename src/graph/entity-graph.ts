import { MultiDirectedGraph } from 'graphology';
import type { ExchangeEvent } from '../events/schema.js';
import type { Operator } from '../pipeline/types.js';
import { normalizeAddress } from '../chain/address.js';
import { buildCsr } from './csr.js';
import type { CsrView } from './graph-csr.js';
import { ActivityLog } from './activity-log.js';
import { EdgeColumns } from './edge-columns.js';
import { PairMap } from './pair-map.js';
import { StringIntMap } from './string-ids.js';

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
  /**
   * Keep per-node adjacency lists (every edge from both ends) for online queries: links, features as
   * of an event time (`neighbors`). Off by default: it costs two array pushes per new edge.
   */
  adjacency?: boolean;
}

const BUCKET_STRIDE = 5;
const KINDS: readonly EntityKind[] = ['account', 'device', 'ip', 'address'];
const KIND_INDEX: Readonly<Record<EntityKind, number>> = { account: 0, device: 1, ip: 2, address: 3 };
const EDGE_TYPES: readonly EntityEdgeType[] = [...IDENTIFIER_EDGE_TYPES, ...FLOW_EDGE_TYPES];

/**
 * Builds the entity graph incrementally from canonical events (an Operator, so it sits in the replay
 * pipeline like any other stage).
 *
 * The hot path never touches graphology: nodes are interned per kind from their raw ids (no key
 * strings built), edges are found by their (source, target) dense-id pair in one typed-array hash
 * table per type (no boxed keys, no allocation per lookup). New nodes and edges keep their fields
 * in columns (no object per node, edge or activity list) until they are handed to graphology in one
 * batch when `graph` is read; from then on updates mutate the shared attribute objects in place, so
 * they are visible at once.
 * Reading `graph` after every event is correct but gives up the batching.
 */
export class EntityGraphBuilder implements Operator {
  /** Edge updates applied (new edges and updates of existing ones). */
  edgeUpdates = 0;
  events = 0;
  private readonly g: EntityGraph;
  private readonly value: (asset: string, amount: string, ts: number) => number;
  private readonly bucketMs: number;
  private readonly maxBuckets: number;
  private readonly activityCap: number;
  private readonly marketIndex = new Map<string, number>();
  private lastMarket = '';
  private lastMarketIndex = -1;
  private readonly rawAddress = new StringIntMap();
  private readonly markets: string[];
  /** Raw id → dense node id, per kind. */
  private readonly ids: Record<EntityKind, StringIntMap> = { account: new StringIntMap(), device: new StringIntMap(), ip: new StringIntMap(), address: new StringIntMap() };
  /** Node keys (`kind:id`), built when first handed to graphology. */
  private readonly nodeKeys: string[] = [];
  /** Per node: kind (index into KINDS) and raw id. */
  private readonly nodeKind: number[] = [];
  private readonly nodeRaw: string[] = [];
  /**
   * Per node, its attribute object once made (when handed to graphology, or earlier when read or
   * given more than the columns hold); until then its fields live in the columns below, so building
   * allocates nothing per node. Once a node has its object, only the object is updated.
   */
  private readonly nodeObjs: (EntityNodeAttributes | undefined)[] = [];
  /** Per node without an object, packed [firstSeen, lastSeen, events]. */
  private readonly nodeSeen: number[] = [];
  /** Per node without an object: the one chain an address was seen on (index into chainNames), or -1. */
  private readonly nodeChain: number[] = [];
  /** Per node without an object: its activity times. */
  private readonly acts: ActivityLog;
  private readonly chainNames: string[] = [];
  private readonly chainIndex = new Map<string, number>();
  private lastChainRaw: string | null = null;
  private lastChain = -1;
  /** Per type: (from, to) → entry; the entry's attribute object, or undefined while its fields live in `columns`. */
  private readonly edgeIndex: Record<EntityEdgeType, PairMap<EntityEdgeAttributes | undefined>> = {
    uses_device: new PairMap(),
    uses_ip: new PairMap(),
    deposits_from: new PairMap(),
    withdraws_to: new PairMap(),
    transfers_to: new PairMap(),
    trades_with: new PairMap(),
  };
  private readonly columns: Record<EntityEdgeType, EdgeColumns> = {
    uses_device: new EdgeColumns(),
    uses_ip: new EdgeColumns(),
    deposits_from: new EdgeColumns(),
    withdraws_to: new EdgeColumns(),
    transfers_to: new EdgeColumns(),
    trades_with: new EdgeColumns(),
  };
  /** Edges not yet handed to graphology, in creation order, packed as entry · 8 + type index. */
  private readonly pending: number[] = [];
  private syncedNodes = 0;
  private watermark = 0;
  /** Per node: neighbours packed as id · 16 + type · 2 + (1 for an in-edge), with `adjEdges` alongside. */
  private readonly adj: number[][] | null;
  private readonly adjEdges: EntityEdgeAttributes[][] | null;
  /** New edges so far (structure changes; updates of known edges do not count). */
  newEdges = 0;
  /** Per node: `newEdges` right after its latest new edge (see lastNewEdge). */
  private edgeStamps = new Float64Array(0);

  constructor(opts: EntityGraphBuilderOptions = {}) {
    this.bucketMs = opts.bucketMs ?? opts.graph?.getAttribute('bucketMs') ?? 60_000;
    this.g = opts.graph ?? createEntityGraph(this.bucketMs);
    this.value = opts.value ?? ((_a, amount) => Number(amount));
    this.maxBuckets = opts.maxBucketsPerEdge ?? 2048;
    this.activityCap = opts.activityCap ?? 256;
    this.acts = new ActivityLog(this.activityCap);
    this.markets = this.g.getAttribute('markets') ?? [];
    if (!this.g.getAttribute('markets')) this.g.setAttribute('markets', this.markets);
    this.markets.forEach((m, i) => this.marketIndex.set(m, i));
    this.watermark = this.g.getAttribute('watermark') ?? 0;
    this.adj = opts.adjacency ? [] : null;
    this.adjEdges = opts.adjacency ? [] : null;
    // Index what an existing graph already holds.
    this.g.forEachNode((key, a) => {
      if (!KINDS.includes(a.kind)) return;
      if (this.ids[a.kind].get(a.id) < 0) this.ids[a.kind].add(a.id, this.nodeKeys.length);
      this.nodeKeys.push(key);
      this.addNode(a.kind, a.id, 0);
      this.nodeObjs[this.nodeObjs.length - 1] = a;
    });
    this.syncedNodes = this.nodeCount;
    this.g.forEachEdge((_k, a, s, t) => {
      const si = this.ids[this.g.getNodeAttribute(s, 'kind')]?.get(keyId(s)) ?? -1;
      const ti = this.ids[this.g.getNodeAttribute(t, 'kind')]?.get(keyId(t)) ?? -1;
      if (si >= 0 && ti >= 0 && EDGE_TYPES.includes(a.type)) {
        const map = this.edgeIndex[a.type];
        if (map.entry(si, ti) < 0) {
          // The columns stay aligned with the entries; an edge that arrives as an object never reads them.
          const c = this.columns[a.type];
          c.weight.push(0);
          c.count.push(0);
          c.firstSeen.push(0);
          c.lastSeen.push(0);
          c.qty.push(0);
          c.market.push(0);
          map.add(si, ti, a);
        }
        this.adjoin(si, ti, a);
      }
    });
  }

  /** Dense id of a node, if seen. */
  nodeId(kind: EntityKind, id: string): number | undefined {
    const i = this.ids[kind]?.get(id) ?? -1;
    return i < 0 ? undefined : i;
  }

  /** A node's attributes by dense id (live: updated in place as events arrive). */
  nodeAttributes(i: number): EntityNodeAttributes {
    return this.nodeObjs[i] ?? this.nodeObject(i);
  }

  get nodeCount(): number {
    return this.nodeKind.length;
  }

  /**
   * Calls fn for every edge at node i (needs `adjacency: true`): the other end's dense id, the edge's
   * type, whether it points at i, and its attributes. Edges come in the order they were first seen.
   */
  forEachNeighbor(i: number, fn: (other: number, type: EntityEdgeType, incoming: boolean, edge: EntityEdgeAttributes) => void): void {
    if (!this.adj || !this.adjEdges) throw new Error('EntityGraphBuilder: forEachNeighbor needs { adjacency: true }');
    const list = this.adj[i];
    const edges = this.adjEdges[i];
    if (!list) return;
    for (let k = 0; k < list.length; k++) {
      const p = list[k];
      fn(p >>> 4, EDGE_TYPES[(p & 15) >>> 1], (p & 1) === 1, edges[k]);
    }
  }

  /** Number of edges at node i (needs `adjacency: true`). */
  degree(i: number): number {
    return this.adj?.[i]?.length ?? 0;
  }

  private adjoin(from: number, to: number, a: EntityEdgeAttributes): void {
    if (!this.adj || !this.adjEdges) return;
    const t = EDGE_TYPES.indexOf(a.type);
    this.adj[from].push(to * 16 + t * 2);
    this.adjEdges[from].push(a);
    this.adj[to].push(from * 16 + t * 2 + 1);
    this.adjEdges[to].push(a);
  }

  /** The graphology graph, with every node and edge seen so far. */
  get graph(): EntityGraph {
    this.sync();
    return this.g;
  }

  /** Hands new nodes and edges to graphology (called by `graph`). */
  sync(): void {
    const g = this.g;
    const n = this.nodeCount;
    // Keys by join: one flat string each, where a template makes a chain of cons strings that graphology's
    // Maps flatten (a second copy) and then keep alive (about 55 bytes more per edge).
    const parts = ['', '', ''];
    for (let i = this.syncedNodes; i < n; i++) {
      parts.length = 2;
      parts[0] = KINDS[this.nodeKind[i]];
      parts[1] = this.nodeRaw[i];
      const key = parts.join(':');
      this.nodeKeys.push(key);
      g.addNode(key, this.nodeObjs[i] ?? this.nodeObject(i));
      dictionaryAdjacency(g, key);
    }
    this.syncedNodes = n;
    const pending = this.pending;
    for (let i = 0; i < pending.length; i++) {
      const type = EDGE_TYPES[pending[i] & 7];
      const e = pending[i] >>> 3;
      const map = this.edgeIndex[type];
      const from = this.nodeKeys[map.from[e]];
      const to = this.nodeKeys[map.to[e]];
      parts.length = 3;
      parts[0] = type;
      parts[1] = from;
      parts[2] = to;
      g.addDirectedEdgeWithKey(parts.join('|'), from, to, map.values[e] ?? this.materialize(type, e));
    }
    pending.length = 0;
    g.setAttribute('watermark', this.watermark);
  }

  /**
   * The graph as CSR straight from the builder's own arrays (no graphology walk, no key lookups): the
   * fast path for PageRank and distances on a large entity graph. Dense ids follow `nodes`. The last
   * view is reused while no event has changed the graph and the options are the same (same weight
   * function object), so ranking many seed sets on one snapshot lays the graph out once.
   */
  csrView(opts: { edgeTypes?: readonly EntityEdgeType[]; weight?: (a: EntityEdgeAttributes) => number; undirected?: boolean } = {}): CsrView {
    const stamp = `${this.edgeUpdates}|${this.nodeCount}|${(opts.edgeTypes ?? EDGE_TYPES).join(',')}|${opts.undirected ?? true}`;
    const last = this.lastView;
    if (last && last.stamp === stamp && last.weight === opts.weight) return last.view;
    const view = this.layout(opts);
    this.lastView = { stamp, weight: opts.weight, view };
    return view;
  }

  private lastView: { stamp: string; weight: unknown; view: CsrView } | null = null;

  private layout(opts: { edgeTypes?: readonly EntityEdgeType[]; weight?: (a: EntityEdgeAttributes) => number; undirected?: boolean }): CsrView {
    this.sync();
    const types = opts.edgeTypes ?? EDGE_TYPES;
    let m = 0;
    for (const t of types) m += this.edgeIndex[t].size;
    const src = new Int32Array(m);
    const dst = new Int32Array(m);
    const w = new Float64Array(m);
    let k = 0;
    for (const t of types) {
      const index = this.edgeIndex[t];
      for (let e = 0; e < index.size; e++) {
        const a = index.values[e]!;
        src[k] = index.from[e];
        dst[k] = index.to[e];
        w[k] = opts.weight ? opts.weight(a) : a.weight;
        k++;
      }
    }
    const ids = this.ids;
    return {
      csr: buildCsr(this.nodeCount, src, dst, w, { undirected: opts.undirected ?? true }),
      nodes: this.nodeKeys,
      index: {
        get(key: string): number | undefined {
          const c = key.indexOf(':');
          const i = c < 0 ? -1 : (ids[key.slice(0, c) as EntityKind]?.get(key.slice(c + 1)) ?? -1);
          return i < 0 ? undefined : i;
        },
      },
    };
  }

  onEvent(e: ExchangeEvent): void {
    this.events++;
    if (e.ts > this.watermark) this.watermark = e.ts;
    switch (e.type) {
      case 'account.opened': {
        const a = this.nodeAttributes(this.node('account', e.accountId, e.ts));
        a.openedAt = a.openedAt === undefined ? e.ts : Math.min(a.openedAt, e.ts);
        if (e.referrerId) a.referrerId = e.referrerId;
        if (e.country) a.country = e.country;
        if (e.kycLevel !== undefined) a.kycLevel = e.kycLevel;
        return;
      }
      case 'login': {
        const acc = this.node('account', e.accountId, e.ts);
        if (e.success === false) {
          const a = this.nodeAttributes(acc);
          a.failedLogins = (a.failedLogins ?? 0) + 1;
          return;
        }
        this.active(acc, e.ts);
        if (e.deviceId) this.link('uses_device', acc, this.node('device', e.deviceId, e.ts), e.ts, 0);
        if (e.ip) this.link('uses_ip', acc, this.node('ip', e.ip, e.ts), e.ts, 0);
        return;
      }
      case 'api_key.used': {
        const acc = this.node('account', e.accountId, e.ts);
        this.active(acc, e.ts);
        this.link('uses_ip', acc, this.node('ip', e.ip, e.ts), e.ts, 0);
        return;
      }
      case 'order.placed': {
        const acc = this.node('account', e.accountId, e.ts);
        this.active(acc, e.ts);
        if (e.ip) this.link('uses_ip', acc, this.node('ip', e.ip, e.ts), e.ts, 0);
        return;
      }
      case 'deposit':
      case 'withdrawal': {
        const acc = this.node('account', e.accountId, e.ts);
        this.active(acc, e.ts);
        const addr = this.addressNode(e.address, e.ts);
        this.chain(addr, e.chain);
        this.link(e.type === 'deposit' ? 'deposits_from' : 'withdraws_to', acc, addr, e.ts, this.value(e.asset, e.amount, e.ts));
        return;
      }
      case 'transfer.internal': {
        if (e.fromAccountId === e.toAccountId) return;
        const from = this.node('account', e.fromAccountId, e.ts);
        const to = this.node('account', e.toAccountId, e.ts);
        this.active(from, e.ts);
        this.active(to, e.ts);
        this.flow('transfers_to', from, to, e.ts, -1, Number(e.amount), this.value(e.asset, e.amount, e.ts));
        return;
      }
      case 'trade': {
        const maker = e.makerAccountId;
        const taker = e.takerAccountId;
        if (!maker || !taker) return;
        const m = this.node('account', maker, e.ts);
        this.active(m, e.ts);
        if (maker === taker) {
          const a = this.nodeAttributes(m);
          a.selfTrades = (a.selfTrades ?? 0) + 1;
          return;
        }
        const t = this.node('account', taker, e.ts);
        this.active(t, e.ts);
        // Base asset flows seller → buyer. With an unknown aggressor, maker → taker keeps the pair without claiming a side.
        const takerBuys = e.aggressor !== 'sell';
        const qty = Number(e.size);
        const notional = qty * Number(e.price);
        this.flow('trades_with', takerBuys ? m : t, takerBuys ? t : m, e.ts, this.market(e.market), qty, notional);
        return;
      }
      default: {
        if ('accountId' in e && typeof e.accountId === 'string') this.active(this.node('account', e.accountId, e.ts), e.ts);
      }
    }
  }

  /** Ensures a node exists and marks it seen at ts; returns the node's attributes (mutable, shared with the graph). */
  touch(kind: EntityKind, id: string, ts: number): EntityNodeAttributes {
    return this.nodeAttributes(this.node(kind, id, ts));
  }

  /** Address node by its raw spelling (normalised once per spelling, not once per event). */
  private addressNode(raw: string, ts: number): number {
    const known = this.rawAddress.get(raw);
    if (known >= 0) {
      this.seen(known, ts);
      return known;
    }
    const i = this.node('address', normalizeAddress(raw), ts);
    this.rawAddress.add(raw, i);
    return i;
  }

  /** Dense node id, creating the node on first sight. */
  private node(kind: EntityKind, id: string, ts: number): number {
    const map = this.ids[kind];
    let i = map.get(id);
    if (i < 0) {
      i = this.nodeCount;
      map.add(id, i);
      this.addNode(kind, id, ts);
      return i;
    }
    this.seen(i, ts);
    return i;
  }

  /** Appends a node to the columns, seen once at ts. */
  private addNode(kind: EntityKind, id: string, ts: number): void {
    this.nodeKind.push(KIND_INDEX[kind]);
    this.nodeRaw.push(id);
    this.nodeObjs.push(undefined);
    this.nodeSeen.push(ts, ts, 1);
    this.nodeChain.push(-1);
    this.acts.addOwner();
    if (this.adj) {
      this.adj.push([]);
      this.adjEdges!.push([]);
    }
  }

  /** One more event on node i. */
  private seen(i: number, ts: number): void {
    const a = this.nodeObjs[i];
    if (a !== undefined) {
      touchNode(a, ts);
      return;
    }
    const s = 3 * i;
    const seen = this.nodeSeen;
    if (ts < seen[s]) seen[s] = ts;
    if (ts > seen[s + 1]) seen[s + 1] = ts;
    seen[s + 2]++;
  }

  /** Node i's attribute object, made from its columns (the columns are not read again). */
  private nodeObject(i: number): EntityNodeAttributes {
    const s = 3 * i;
    const seen = this.nodeSeen;
    const a: EntityNodeAttributes = { kind: KINDS[this.nodeKind[i]], id: this.nodeRaw[i], firstSeen: seen[s], lastSeen: seen[s + 1], events: seen[s + 2] };
    // Key order as if the object had existed from the start: only activity or chains can predate it.
    const act = this.acts.take(i);
    if (act !== undefined) a.activity = act;
    const c = this.nodeChain[i];
    if (c >= 0) a.chains = [this.chainNames[c]];
    this.nodeObjs[i] = a;
    return a;
  }

  /** Records that address node i was seen on a chain (raw spelling; lower-cased once per spelling run). */
  private chain(i: number, raw: string): void {
    let c = this.lastChain;
    if (raw !== this.lastChainRaw) {
      const name = raw.toLowerCase();
      const known = this.chainIndex.get(name);
      if (known === undefined) {
        c = this.chainNames.length;
        this.chainNames.push(name);
        this.chainIndex.set(name, c);
      } else c = known;
      this.lastChainRaw = raw;
      this.lastChain = c;
    }
    let a = this.nodeObjs[i];
    if (a === undefined) {
      const had = this.nodeChain[i];
      if (had === c) return;
      if (had < 0) {
        this.nodeChain[i] = c;
        return;
      }
      a = this.nodeObject(i);
    }
    const name = this.chainNames[c];
    if (!a.chains) a.chains = [name];
    else if (!a.chains.includes(name)) a.chains.push(name);
  }

  /** Activity of account node i at ts. */
  private active(i: number, ts: number): void {
    const a = this.nodeObjs[i];
    if (a !== undefined) this.activity(a, ts);
    else this.acts.push(i, ts);
  }

  /** Adds or updates the edge of this type between two nodes (dense ids). */
  private link(type: IdentifierEdgeType, from: number, to: number, ts: number, weight: number): void {
    this.edgeUpdates++;
    const map = this.edgeIndex[type];
    const e = map.entry(from, to);
    if (e < 0) {
      this.added(type, map, from, to).append(weight, ts);
      this.adjoinNew(type, map);
      return;
    }
    const a = map.values[e];
    if (a !== undefined) {
      updateEdge(a, weight, ts);
      return;
    }
    this.columns[type].update(e, weight, ts);
  }

  /** Adds or updates a flow edge and its bucket. */
  private flow(type: FlowEdgeType, from: number, to: number, ts: number, market: number, qty: number, value: number): void {
    this.edgeUpdates++;
    const map = this.edgeIndex[type];
    const e = map.entry(from, to);
    if (e < 0) {
      const c = this.added(type, map, from, to);
      c.append(value, ts);
      c.qty.push(qty);
      c.market.push(market);
      this.adjoinNew(type, map);
      return;
    }
    let a = map.values[e];
    if (a === undefined) {
      const c = this.columns[type];
      if (c.market[e] === market && this.bucketStart(ts) === this.bucketStart(c.firstSeen[e])) {
        c.update(e, value, ts);
        c.qty[e] += qty;
        return;
      }
      // A second bucket: from here on the edge lives as its object.
      a = this.materialize(type, e);
    }
    updateEdge(a, value, ts);
    if (type === 'trades_with') a.qty = (a.qty ?? 0) + qty;
    this.bucket(a, ts, market, qty, value);
  }

  private bucketStart(ts: number): number {
    return ts - (((ts % this.bucketMs) + this.bucketMs) % this.bucketMs);
  }

  /** Registers a new edge; the caller pushes its fields onto the returned columns. */
  private added(type: EntityEdgeType, map: PairMap<EntityEdgeAttributes | undefined>, from: number, to: number): EdgeColumns {
    this.pending.push(map.size * 8 + EDGE_TYPES.indexOf(type));
    map.add(from, to, undefined);
    this.newEdges++;
    const hi = from > to ? from : to;
    if (hi >= this.edgeStamps.length) {
      const next = new Float64Array(Math.max(1024, this.edgeStamps.length * 2, hi + 1));
      next.set(this.edgeStamps);
      this.edgeStamps = next;
    }
    this.edgeStamps[from] = this.newEdges;
    this.edgeStamps[to] = this.newEdges;
    return this.columns[type];
  }

  /** `newEdges` as it was right after the last new edge touching node i (0 if none yet). */
  lastNewEdge(i: number): number {
    return i < this.edgeStamps.length ? this.edgeStamps[i] : 0;
  }

  /** With adjacency on, a new edge needs its object at once (the lists hold it). */
  private adjoinNew(type: EntityEdgeType, map: PairMap<EntityEdgeAttributes | undefined>): void {
    if (!this.adj) return;
    const e = map.size - 1;
    this.adjoin(map.from[e], map.to[e], this.materialize(type, e));
  }

  /** The attribute object of a column-held edge (made once; its columns are not read again). */
  private materialize(type: EntityEdgeType, e: number): EntityEdgeAttributes {
    const c = this.columns[type];
    const weight = c.weight[e];
    const count = c.count[e];
    const firstSeen = c.firstSeen[e];
    const lastSeen = c.lastSeen[e];
    let a: EntityEdgeAttributes;
    if (type === 'trades_with') {
      const qty = c.qty[e];
      a = { type, weight, count, firstSeen, lastSeen, qty, buckets: [this.bucketStart(firstSeen), c.market[e], qty, weight, count] };
    } else if (type === 'transfers_to') {
      a = { type, weight, count, firstSeen, lastSeen, buckets: [this.bucketStart(firstSeen), c.market[e], c.qty[e], weight, count] };
    } else a = { type, weight, count, firstSeen, lastSeen };
    this.edgeIndex[type].values[e] = a;
    return a;
  }

  private activity(a: EntityNodeAttributes, ts: number): void {
    const act = a.activity;
    if (act === undefined) {
      a.activity = [ts];
      return;
    }
    act.push(ts);
    if (act.length >= 2 * this.activityCap) act.splice(0, act.length - this.activityCap);
  }

  private market(m: string): number {
    if (m === this.lastMarket) return this.lastMarketIndex;
    let i = this.marketIndex.get(m);
    if (i === undefined) {
      i = this.markets.length;
      this.markets.push(m);
      this.marketIndex.set(m, i);
    }
    this.lastMarket = m;
    this.lastMarketIndex = i;
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

/**
 * graphology keeps each node's neighbours as plain objects keyed by neighbour key. V8 gives every
 * object that gains a new, unshared property name a new hidden class, so handing over a large graph
 * made millions of them (half the hand-off's time, and most of its garbage). Empty objects that are
 * already in dictionary mode hold the same keys and behave the same, without the hidden classes.
 * This reaches into graphology's node records (pinned version); if they look different it does nothing.
 */
function dictionaryAdjacency(g: EntityGraph, key: string): void {
  const nodes = (g as unknown as { _nodes?: unknown })._nodes;
  if (!(nodes instanceof Map)) return;
  const d = nodes.get(key) as Record<string, unknown> | undefined;
  if (!d) return;
  for (const side of ADJACENCY_SIDES) {
    const adj = d[side];
    if (adj !== null && typeof adj === 'object' && Object.getPrototypeOf(adj) === Object.prototype && isEmpty(adj)) d[side] = dictionaryObject();
  }
}

const ADJACENCY_SIDES = ['out', 'in', 'undirected'] as const;

function isEmpty(o: object): boolean {
  for (const _k in o) return false;
  return true;
}

/** An empty ordinary object in V8's dictionary mode (deleting a property that is not the last added one switches it). */
function dictionaryObject(): Record<string, unknown> {
  const o: Record<string, unknown> = { a: 0, b: 0 };
  delete o.a;
  delete o.b;
  return o;
}

/** One more event seen on a node. */
function touchNode(a: { firstSeen: number; lastSeen: number; events: number }, ts: number): void {
  if (ts < a.firstSeen) a.firstSeen = ts;
  if (ts > a.lastSeen) a.lastSeen = ts;
  a.events++;
}

/** Another update of an edge that has its attribute object. */
function updateEdge(a: { weight: number; count: number; firstSeen: number; lastSeen: number }, weight: number, ts: number): void {
  a.weight += weight;
  a.count++;
  if (ts < a.firstSeen) a.firstSeen = ts;
  if (ts > a.lastSeen) a.lastSeen = ts;
}
