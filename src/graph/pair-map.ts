/**
 * Open-addressing hash map from an ordered pair of dense ids (each < 2^31) to a value, on one typed
 * array: no boxed keys, no allocation per lookup, one cache line per probe. Values keep insertion
 * order (`from`, `to`, `values` by entry number), so walking it is deterministic.
 */
export class PairMap<V> {
  size = 0;
  readonly values: V[] = [];
  /** Entry e's pair is (from[e], to[e]) for e < size. */
  from = new Int32Array(1024);
  to = new Int32Array(1024);
  /** Slots of [from, to, entry + 1]; entry + 1 = 0 marks an empty slot. */
  private table = new Int32Array(3 * 2048);
  private mask = 2047;

  get(a: number, b: number): V | undefined {
    const e = this.entry(a, b);
    return e < 0 ? undefined : this.values[e];
  }

  /** The entry number of the pair (its index in from/to/values), or -1 when absent. */
  entry(a: number, b: number): number {
    const t = this.table;
    const mask = this.mask;
    for (let h = hash(a, b) & mask; ; h = (h + 1) & mask) {
      const s = 3 * h;
      const e = t[s + 2];
      if (e === 0) return -1;
      if (t[s] === a && t[s + 1] === b) return e - 1;
    }
  }

  /** Adds a pair that is not in the map yet (check with `get` first). */
  add(a: number, b: number, v: V): void {
    const e = this.size++;
    if (e === this.from.length) {
      const f = new Int32Array(e * 2);
      f.set(this.from);
      this.from = f;
      const g = new Int32Array(e * 2);
      g.set(this.to);
      this.to = g;
    }
    this.from[e] = a;
    this.to[e] = b;
    this.values.push(v);
    if (2 * this.size > this.mask + 1) this.grow();
    else this.place(a, b, e);
  }

  private place(a: number, b: number, e: number): void {
    const t = this.table;
    const mask = this.mask;
    let h = hash(a, b) & mask;
    while (t[3 * h + 2] !== 0) h = (h + 1) & mask;
    t[3 * h] = a;
    t[3 * h + 1] = b;
    t[3 * h + 2] = e + 1;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    this.table = new Int32Array(3 * cap);
    this.mask = cap - 1;
    for (let e = 0; e < this.size; e++) this.place(this.from[e], this.to[e], e);
  }
}

function hash(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ b;
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}
