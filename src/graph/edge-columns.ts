/**
 * Entity-graph edges' fields as columns, by entry number in their type's PairMap, for edges that
 * have no attribute object yet. Building a large graph then allocates no object per new edge (the
 * garbage collector would copy and mark each one); objects are made when the edges are handed to
 * graphology, or earlier when something needs one (a second flow bucket, adjacency lists).
 *
 * The columns are plain number arrays on purpose: double arrays are single leaf objects to the
 * garbage collector, while typed arrays of this size are external memory, whose growth sets off
 * full collections of the whole heap.
 *
 * A flow edge without an object has had every update in one bucket, so its bucket is implied:
 * [start of firstSeen's bucket, market, qty, weight, count].
 */
export class EdgeColumns {
  readonly weight: number[] = [];
  readonly count: number[] = [];
  readonly firstSeen: number[] = [];
  readonly lastSeen: number[] = [];
  /** Flow edges: base quantity (trades) or amount (transfers) summed. */
  readonly qty: number[] = [];
  /** Flow edges: the market index of the one bucket. */
  readonly market: number[] = [];

  /** A new edge's first update (flow edges then push qty and market). */
  append(weight: number, ts: number): void {
    this.weight.push(weight);
    this.count.push(1);
    this.firstSeen.push(ts);
    this.lastSeen.push(ts);
  }

  /** Another update of edge `e`. */
  update(e: number, weight: number, ts: number): void {
    this.weight[e] += weight;
    this.count[e]++;
    if (ts < this.firstSeen[e]) this.firstSeen[e] = ts;
    if (ts > this.lastSeen[e]) this.lastSeen[e] = ts;
  }
}
