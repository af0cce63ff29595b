/**
 * Per-node recent activity times (the entity graph's `activity` attribute) kept in one shared log
 * instead of an array per node, for nodes that have no attribute object yet: building a large graph
 * then allocates nothing per node or per event (the arrays would be copied by every young-generation
 * collection and re-allocated as they grow).
 *
 * An owner's list is exactly what `push` then "at 2·cap entries drop all but the newest cap" would hold
 * in an array: it depends only on how many times were pushed, so only the newest ones are kept. Dead
 * entries (dropped ones, and owners whose list was taken) are squeezed out when the log doubles.
 */
export class ActivityLog {
  /** Times, and for each the index of the same owner's previous entry (-1 for none). */
  private ts: number[] = [];
  private prev: number[] = [];
  /** Per owner: [index of its newest entry (-1 for none), pushes so far]. */
  private readonly owners: number[] = [];
  private limit: number;

  constructor(
    private readonly cap: number,
    private readonly minCompact = 1 << 20,
  ) {
    this.limit = minCompact;
  }

  /** Registers the next owner (owners are numbered 0, 1, … in the order added). */
  addOwner(): void {
    this.owners.push(-1, 0);
  }

  push(owner: number, ts: number): void {
    const o = 2 * owner;
    const ts_ = this.ts;
    this.prev.push(this.owners[o]);
    this.owners[o] = ts_.length;
    ts_.push(ts);
    this.owners[o + 1]++;
    if (ts_.length >= this.limit) this.compact();
  }

  /** Times pushed for owner so far. */
  pushes(owner: number): number {
    return this.owners[2 * owner + 1];
  }

  /** The owner's list, oldest first (undefined if nothing was pushed); the log forgets the owner. */
  take(owner: number): number[] | undefined {
    const o = 2 * owner;
    const n = this.owners[o + 1];
    if (n === 0) return undefined;
    const out = this.collect(this.owners[o], this.kept(n));
    this.owners[o] = -1;
    this.owners[o + 1] = 0;
    return out;
  }

  /** How many entries an array would hold after n pushes (see the class comment). */
  kept(n: number): number {
    const cap = this.cap;
    if (Number.isInteger(cap) && cap >= 1) return n < 2 * cap ? n : cap + ((n - 2 * cap) % cap);
    // Other caps: replay the array's lengths (the first push never trims).
    let len = 0;
    for (let k = 0; k < n; k++) {
      len++;
      if (k > 0 && len >= 2 * cap) len -= Math.min(len, Math.max(0, Math.trunc(len - cap)));
    }
    return len;
  }

  private collect(head: number, count: number): number[] {
    const out = new Array<number>(count);
    for (let k = count - 1, e = head; k >= 0; k--, e = this.prev[e]) out[k] = this.ts[e];
    return out;
  }

  /** Rewrites the log with only the entries owners still hold, each owner's together. */
  private compact(): void {
    const ts: number[] = [];
    const prev: number[] = [];
    const owners = this.owners;
    for (let o = 0; o < owners.length; o += 2) {
      const n = owners[o + 1];
      if (n === 0) continue;
      const list = this.collect(owners[o], this.kept(n));
      let p = -1;
      for (const t of list) {
        prev.push(p);
        p = ts.length;
        ts.push(t);
      }
      owners[o] = p;
    }
    this.ts = ts;
    this.prev = prev;
    this.limit = Math.max(this.minCompact, 2 * ts.length);
  }
}
