/**
 * A map from strings to non-negative int32 values on an open-addressing table of
 * [hash, entry + 1, value] Int32 triples. Event ids arrive as fresh string objects, so a Map has to
 * hash them anyway; hashing here and probing one flat typed array costs about half a Map lookup on
 * large tables (one cache line per probe, the stored string compared only when the hashes match).
 */
export class StringIntMap {
  /** Keys in insertion order. */
  readonly keys: string[] = [];
  private entryHash: Int32Array = new Int32Array(1024);
  private entryValue: Int32Array = new Int32Array(1024);
  private table = new Int32Array(3 * 2048);
  private mask = 2047;
  /** The slot and hash of the last missed `get`, for an `add` of the same key straight after. */
  private missSlot = -1;
  private missHash = 0;
  private missKey: string | null = null;

  get size(): number {
    return this.keys.length;
  }

  /** The value of s, or -1 when s is absent. */
  get(s: string): number {
    const h = hashString(s);
    const t = this.table;
    const mask = this.mask;
    for (let p = h & mask; ; p = (p + 1) & mask) {
      const q = 3 * p;
      const e = t[q + 1];
      if (e === 0) {
        this.missSlot = p;
        this.missHash = h;
        this.missKey = s;
        return -1;
      }
      if (t[q] === h && this.keys[e - 1] === s) return t[q + 2];
    }
  }

  /** Adds a key that is absent (check with `get` first; straight after that `get` it probes nothing). */
  add(s: string, value: number): void {
    let h: number;
    let p: number;
    if (this.missKey === s && this.missSlot >= 0) {
      h = this.missHash;
      p = this.missSlot;
    } else {
      h = hashString(s);
      p = -1;
    }
    this.missSlot = -1;
    this.missKey = null;
    const e = this.keys.length;
    if (e === this.entryHash.length) {
      this.entryHash = grown(this.entryHash);
      this.entryValue = grown(this.entryValue);
    }
    this.keys.push(s);
    this.entryHash[e] = h;
    this.entryValue[e] = value;
    if (2 * (e + 1) > this.mask + 1) this.rehash();
    else this.place(h, e, value, p);
  }

  private place(h: number, e: number, value: number, slot: number): void {
    const t = this.table;
    const mask = this.mask;
    let p = slot;
    if (p < 0) for (p = h & mask; t[3 * p + 1] !== 0; p = (p + 1) & mask);
    t[3 * p] = h;
    t[3 * p + 1] = e + 1;
    t[3 * p + 2] = value;
  }

  private rehash(): void {
    const cap = 2 * (this.mask + 1);
    this.table = new Int32Array(3 * cap);
    this.mask = cap - 1;
    for (let e = 0; e < this.keys.length; e++) this.place(this.entryHash[e], e, this.entryValue[e], -1);
  }
}

function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(2 * a.length);
  b.set(a);
  return b;
}

/** FNV-1a over UTF-16 code units, then a final avalanche so the low bits (the slot) mix well. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}
