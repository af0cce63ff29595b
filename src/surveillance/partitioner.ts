/**
 * Which partition (worker) owns a market or an account.
 *
 * Markets are grouped by a partition key, by default their underlying symbol: the market with a
 * derivatives or index suffix removed (BTCUSDT-PERP, BTCUSDT_PERP, BTC-USDT-SWAP, BTCUSDT-240927, BTCUSDT-INDEX -> the same
 * key as the spot market), so cross-market detectors find spot and perpetual in one partition.
 * `groups` overrides the key per market. The key is hashed with FNV-1a (stable across runs,
 * platforms and Node versions) modulo the partition count.
 */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const DERIVATIVE_SUFFIX = /(?:[-_](?:PERP|SWAP|PERPETUAL|UMCBL|DMCBL|CMCBL|INDEX|IDX)|[-_]\d{6,8}|\.P)$/i;

/** The partition key of a market: its group if configured, else the symbol without a derivatives suffix. */
export function partitionKey(market: string, groups?: Readonly<Record<string, string>>): string {
  const g = groups?.[market];
  if (g !== undefined) return g;
  return market.replace(DERIVATIVE_SUFFIX, '').replace(/[-_/]/g, '').toUpperCase();
}

export class Partitioner {
  private readonly cache = new Map<string, number>();
  constructor(readonly count: number, private readonly groups?: Readonly<Record<string, string>>) {}

  /** The market's partition key (see partitionKey). */
  keyOf(market: string): string {
    return partitionKey(market, this.groups);
  }

  /** Partition of a market (cached: O(1) per event after the first). */
  ofMarket(market: string): number {
    if (this.count <= 1) return 0;
    let p = this.cache.get(market);
    if (p === undefined) {
      p = fnv1a(partitionKey(market, this.groups)) % this.count;
      if (this.cache.size < 100_000) this.cache.set(market, p);
    }
    return p;
  }

  /** Partition that owns decisions about an account-level (market-less) matter. */
  ofAccount(accountId: string): number {
    return this.count <= 1 ? 0 : fnv1a(`acct:${accountId}`) % this.count;
  }
}
