/**
 * Per-key state with idle eviction on event time, so memory stays bounded on feeds with millions
 * of accounts or orders.
 *
 * Entries sit in a Map whose insertion order is the order in which they were (re)queued. A touch
 * only stamps `lastSeen` (no reordering on the hot path); `sweep(now)` walks from the front:
 * entries idle for at least `idleMs` are evicted (`onEvict` sees them first), live ones are moved
 * to the back. Each entry is moved at most once per idle period, so the cost is amortised O(1) per
 * touch, and an entry is evicted between `idleMs` and about `2.2 · idleMs` after its last touch. A hard
 * cap `maxKeys` evicts the least recently queued entries first (counted in `forcedEvictions`).
 *
 * Expiry is also applied lazily and exactly: `get(key, t)` on an entry idle for more than `idleMs`
 * replaces it with a fresh one, and `peek(key, t)` hides it. So what a caller observes depends only
 * on the event times of its own key, never on when sweeps ran (which matters for determinism when
 * the same keys are processed by a different mix of partitions).
 *
 * Creation goes through a factory given once (no closure per event).
 */
export interface KeyedOptions<K, V> {
  /** Evict entries untouched for this long (event time, ms). */
  idleMs: number;
  /** Hard upper bound on entries (default 1 000 000). */
  maxKeys?: number;
  /** Called before an entry is evicted (idle or forced). */
  onEvict?: (key: K, value: V) => void;
}

/** No key is memoised (a value no caller can pass). */
const NO_KEY: unique symbol = Symbol('none');

interface Slot<V> {
  value: V;
  lastSeen: number;
  queuedAt: number;
}

export class KeyedState<K, V> {
  readonly idleMs: number;
  readonly maxKeys: number;
  private readonly map = new Map<K, Slot<V>>();
  private readonly onEvict?: (key: K, value: V) => void;
  evictions = 0;
  forcedEvictions = 0;
  private lastSweep = -Infinity;
  // The last key looked up and its slot: consecutive events mostly share an account (a market maker's
  // cancel/replace), so most lookups skip the hash. Reset whenever an entry may leave the map.
  private memoKey: unknown = NO_KEY;
  private memoSlot: Slot<V> | undefined = undefined;

  constructor(private readonly factory: (key: K, t: number) => V, opts: KeyedOptions<K, V>) {
    this.idleMs = opts.idleMs;
    this.maxKeys = opts.maxKeys ?? 1_000_000;
    this.onEvict = opts.onEvict;
  }

  get size(): number {
    return this.map.size;
  }

  /** The entry for key at event time t, created if absent (or expired); stamps it as seen at t. */
  get(key: K, t: number): V {
    let s = key === this.memoKey ? this.memoSlot : this.map.get(key);
    if (s === undefined) {
      if (this.map.size >= this.maxKeys) this.evictFront();
      s = { value: this.factory(key, t), lastSeen: t, queuedAt: t };
      this.map.set(key, s);
      this.memoKey = key;
      this.memoSlot = s;
    } else if (t > s.lastSeen) {
      if (t - s.lastSeen > this.idleMs) {
        this.evictions++;
        this.onEvict?.(key, s.value);
        s.value = this.factory(key, t);
      }
      s.lastSeen = t;
    }
    this.memoKey = key;
    this.memoSlot = s;
    return s.value;
  }

  /** The entry if present (and, given a time t, not expired at t), without creating or touching it. */
  peek(key: K, t?: number): V | undefined {
    const s = key === this.memoKey ? this.memoSlot : this.map.get(key);
    if (s === undefined || (t !== undefined && t - s.lastSeen > this.idleMs)) return undefined;
    return s.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  delete(key: K): boolean {
    this.forget();
    return this.map.delete(key);
  }

  private forget(): void {
    this.memoKey = NO_KEY;
    this.memoSlot = undefined;
  }

  /**
   * Evicts entries idle since before `now - idleMs`. Cheap to call often: it returns at once unless
   * the front entry is due, and does real work at most once per `idleMs / 8` of event time.
   */
  sweep(now: number): void {
    if (now - this.lastSweep < this.idleMs / 8) return;
    this.lastSweep = now;
    this.forget();
    const cutoff = now - this.idleMs;
    for (const [k, s] of this.map) {
      if (s.queuedAt > cutoff) break;
      this.map.delete(k);
      if (s.lastSeen < cutoff) {
        this.evictions++;
        this.onEvict?.(k, s.value);
      } else {
        s.queuedAt = now;
        this.map.set(k, s);
      }
    }
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [k, s] of this.map) yield [k, s.value];
  }

  clear(): void {
    this.forget();
    this.map.clear();
  }

  private evictFront(): void {
    this.forget();
    for (const [k, s] of this.map) {
      this.map.delete(k);
      this.forcedEvictions++;
      this.onEvict?.(k, s.value);
      return;
    }
  }
}

const pairs = new Map<string, Map<string, string>>();
let pairCount = 0;
let lastB: string | undefined;
let lastInner: Map<string, string> | undefined;
let lastA: string | undefined;
let lastKey = '';
const PAIR_CACHE_MAX = 262_144;

/**
 * The composite key `${a}\u0000${b}` (e.g. account × market), interned: the same string object for
 * the same pair, so the maps it keys hash it once instead of building and hashing a new string on
 * every event. A bounded cache, cleared when full; the value is always the same string by value, so
 * callers cannot tell a cached key from a fresh one.
 */
export function pairKey(a: string, b: string): string {
  if (a === lastA && b === lastB) return lastKey;
  // Consecutive calls mostly share `b` (one event's market): skip the outer lookup then.
  let inner = b === lastB ? lastInner : pairs.get(b);
  if (inner === undefined) pairs.set(b, (inner = new Map()));
  lastB = b;
  lastInner = inner;
  let k = inner.get(a);
  if (k === undefined) {
    if (pairCount >= PAIR_CACHE_MAX) {
      pairs.clear();
      pairCount = 0;
      pairs.set(b, (inner = new Map()));
      lastInner = inner;
    }
    k = `${a}\u0000${b}`;
    inner.set(a, k);
    pairCount++;
  }
  lastA = a;
  lastKey = k;
  return k;
}
