import type { ExchangeEvent } from '../events/schema.js';
import { EntityGraphBuilder, type EntityKind } from './entity-graph.js';
import { GraphLinks, type GraphLinksOptions } from './links.js';

/**
 * Per-account graph features online, as of an event time, for rules (`feature("graph.devices")`) and
 * scores. Fed the event stream in order (it is an Operator), it answers `feature(name, account, ts)`
 * from the entity graph counting only edges first seen at or before `ts`, so a replay, a backtest and
 * live traffic give the same value for the same event (nothing later leaks in).
 *
 * Features (the names of accountFeatures, without the offline-only cluster and PageRank ones):
 *   devices, ips, depositAddresses, withdrawalAddresses   distinct identifiers the account used
 *   transferOut, transferIn                             distinct internal-transfer counterparties
 *   tradeCounterparties                                 distinct trade counterparties
 *   sharedDeviceAccounts, sharedIpAccounts, sharedAddressAccounts   other accounts on its identifiers
 *   linkedAccounts                                      accounts linked to it (GraphLinks weights and threshold)
 *   ageMs                                               ts − opened (or first seen)
 *   hopsToFlagged                                       hops to the nearest flagged node (-1: none within maxHops)
 * `null` for an unknown feature name or an account not seen by ts.
 */
export interface GraphFeatureProvider {
  feature(name: string, account: string, ts: number): number | null;
}

export const GRAPH_FEATURE_NAMES = [
  'devices',
  'ips',
  'depositAddresses',
  'withdrawalAddresses',
  'transferOut',
  'transferIn',
  'tradeCounterparties',
  'sharedDeviceAccounts',
  'sharedIpAccounts',
  'sharedAddressAccounts',
  'linkedAccounts',
  'ageMs',
  'hopsToFlagged',
] as const;
export type GraphFeatureName = (typeof GRAPH_FEATURE_NAMES)[number];

export interface GraphFeaturesOptions {
  /** Share a builder (it must keep adjacency); default: its own, fed by onEvent. */
  builder?: EntityGraphBuilder;
  /** Link weighting for linkedAccounts. */
  links?: Omit<GraphLinksOptions, 'builder'>;
  /** Flagged node keys (`account:…`, `address:…`, `device:…`) for hopsToFlagged. */
  flagged?: readonly string[];
  /** Longest path searched for hopsToFlagged. Default 4. */
  maxHops?: number;
  /** Most nodes a hopsToFlagged search visits (hub identifiers make it explode). Default 20,000. */
  maxVisited?: number;
}

const NAMES = new Set<string>(GRAPH_FEATURE_NAMES);

export class GraphFeatures implements GraphFeatureProvider {
  readonly names: readonly string[] = GRAPH_FEATURE_NAMES;
  readonly builder: EntityGraphBuilder;
  private readonly feeds: boolean;
  private readonly links: GraphLinks;
  private readonly flagged = new Set<number>();
  private readonly pendingFlags: string[] = [];
  private readonly maxHops: number;
  private readonly maxVisited: number;

  constructor(opts: GraphFeaturesOptions = {}) {
    this.builder = opts.builder ?? new EntityGraphBuilder({ adjacency: true });
    this.feeds = opts.builder === undefined;
    this.links = new GraphLinks({ ...opts.links, builder: this.builder });
    this.maxHops = opts.maxHops ?? 4;
    this.maxVisited = opts.maxVisited ?? 20_000;
    for (const k of opts.flagged ?? []) this.flag(k);
  }

  onEvent(e: ExchangeEvent): void {
    if (this.feeds) this.builder.onEvent(e);
  }

  /** Scoring's input hook: events feed the graph; other inputs (alerts) are ignored. */
  onInput(e: { type: string }): void {
    if (e.type !== 'surveillance.alert') this.onEvent(e as ExchangeEvent);
  }

  /** Marks a node (`account:ID`, `address:ADDR`, `device:FP`, `ip:IP`) as known bad for hopsToFlagged. */
  flag(nodeKey: string): void {
    this.pendingFlags.push(nodeKey);
  }

  /** The value of one feature (`devices` or `graph.devices`) for an account as of ts. */
  feature(name: string, account: string, ts: number): number | null {
    const n = name.startsWith('graph.') ? name.slice(6) : name;
    if (!NAMES.has(n)) return null;
    const b = this.builder;
    const me = b.nodeId('account', account);
    if (me === undefined) return null;
    const attrs = b.nodeAttributes(me);
    if (attrs.firstSeen > ts) return null;
    switch (n as GraphFeatureName) {
      case 'ageMs':
        return ts - (attrs.openedAt !== undefined && attrs.openedAt <= ts ? attrs.openedAt : attrs.firstSeen);
      case 'linkedAccounts':
        return this.links.ties(account, ts).filter((l) => l.weight >= this.links.threshold).length;
      case 'hopsToFlagged':
        return this.hopsToFlagged(me, ts);
      default:
        return this.counts(me, ts)[n as CountName];
    }
  }

  /** Every feature for an account as of ts, in `names` order (NaN where null): scoring's read hook. */
  read(account: string, asOf: number): number[] {
    return this.names.map((n) => this.feature(n, account, asOf) ?? NaN);
  }

  private counts(me: number, ts: number): Record<CountName, number> {
    const b = this.builder;
    const c: Record<CountName, number> = { devices: 0, ips: 0, depositAddresses: 0, withdrawalAddresses: 0, transferOut: 0, transferIn: 0, tradeCounterparties: 0, sharedDeviceAccounts: 0, sharedIpAccounts: 0, sharedAddressAccounts: 0 };
    const shared: Record<'device' | 'ip' | 'address', Set<number>> = { device: new Set(), ip: new Set(), address: new Set() };
    const tradeCp = new Set<number>();
    b.forEachNeighbor(me, (nb, type, incoming, e) => {
      if (e.firstSeen > ts) return;
      switch (type) {
        case 'transfers_to':
          if (incoming) c.transferIn++;
          else c.transferOut++;
          return;
        case 'trades_with':
          tradeCp.add(nb);
          return;
        case 'uses_device':
          c.devices++;
          break;
        case 'uses_ip':
          c.ips++;
          break;
        case 'deposits_from':
          c.depositAddresses++;
          break;
        case 'withdraws_to':
          c.withdrawalAddresses++;
          break;
      }
      const kind = b.nodeAttributes(nb).kind as Exclude<EntityKind, 'account'>;
      const set = shared[kind];
      b.forEachNeighbor(nb, (other, _t, inc, e2) => {
        if (inc && other !== me && e2.firstSeen <= ts) set.add(other);
      });
    });
    c.tradeCounterparties = tradeCp.size;
    c.sharedDeviceAccounts = shared.device.size;
    c.sharedIpAccounts = shared.ip.size;
    c.sharedAddressAccounts = shared.address.size;
    return c;
  }

  private hopsToFlagged(me: number, ts: number): number {
    const b = this.builder;
    if (this.pendingFlags.length) {
      for (const key of this.pendingFlags.splice(0)) {
        const c = key.indexOf(':');
        const i = c > 0 ? b.nodeId(key.slice(0, c) as EntityKind, key.slice(c + 1)) : undefined;
        // Keys not seen yet stay pending until their node appears.
        if (i !== undefined) this.flagged.add(i);
        else this.pendingFlags.push(key);
      }
    }
    if (this.flagged.size === 0) return -1;
    if (this.flagged.has(me)) return 0;
    const seen = new Set<number>([me]);
    let frontier = [me];
    for (let hop = 1; hop <= this.maxHops && frontier.length; hop++) {
      const next: number[] = [];
      for (const u of frontier) {
        let found = false;
        b.forEachNeighbor(u, (v, _t, _inc, e) => {
          if (found || e.firstSeen > ts || seen.has(v)) return;
          if (this.flagged.has(v)) found = true;
          seen.add(v);
          next.push(v);
        });
        if (found) return hop;
        if (seen.size > this.maxVisited) return -1;
      }
      frontier = next;
    }
    return -1;
  }
}

type CountName = Exclude<GraphFeatureName, 'ageMs' | 'linkedAccounts' | 'hopsToFlagged'>;
