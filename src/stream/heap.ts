/**
 * A binary min-heap of items ordered by (time, seq): the building block of the reorder buffer and
 * of event-time timers. Keys live in parallel number arrays (no per-item wrapper objects), ties on
 * time are broken by an insertion sequence so the order is total and deterministic.
 *
 * push and pop are O(log n); peek is O(1).
 */
export class TimeHeap<T> {
  private times: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  /** Smallest time in the heap, or +Infinity when empty. */
  peekTime(): number {
    return this.items.length === 0 ? Infinity : this.times[0];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Tie-breaking sequence of the smallest item (+Infinity when empty). */
  peekSeq(): number {
    return this.items.length === 0 ? Infinity : this.seqs[0];
  }

  /** `seq` breaks ties on time (default: insertion order); a caller merging several queues passes its own. */
  push(time: number, item: T, seq = this.nextSeq++): void {
    let i = this.items.length;
    this.times.push(time);
    this.seqs.push(seq);
    this.items.push(item);
    // sift up
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.times[p] < time || (this.times[p] === time && this.seqs[p] < seq)) break;
      this.times[i] = this.times[p];
      this.seqs[i] = this.seqs[p];
      this.items[i] = this.items[p];
      i = p;
    }
    this.times[i] = time;
    this.seqs[i] = seq;
    this.items[i] = item;
  }

  /** Removes and returns the item with the smallest (time, seq); undefined when empty. */
  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0];
    const lastT = this.times.pop()!;
    const lastS = this.seqs.pop()!;
    const lastI = this.items.pop()!;
    if (n === 1) return top;
    const m = n - 1;
    let i = 0;
    // sift down
    while (true) {
      const l = 2 * i + 1;
      if (l >= m) break;
      const r = l + 1;
      let c = l;
      if (r < m && (this.times[r] < this.times[l] || (this.times[r] === this.times[l] && this.seqs[r] < this.seqs[l]))) c = r;
      if (lastT < this.times[c] || (lastT === this.times[c] && lastS < this.seqs[c])) break;
      this.times[i] = this.times[c];
      this.seqs[i] = this.seqs[c];
      this.items[i] = this.items[c];
      i = c;
    }
    this.times[i] = lastT;
    this.seqs[i] = lastS;
    this.items[i] = lastI;
    return top;
  }

  clear(): void {
    this.times.length = 0;
    this.seqs.length = 0;
    this.items.length = 0;
  }
}
