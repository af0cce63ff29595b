/**
 * A small seeded generator for the graph algorithms (Louvain's node order, random test graphs).
 * mulberry32: 32-bit state, pure integer arithmetic, identical on every platform. Never Math.random:
 * the same seed must give the same communities and the same benchmark graph.
 */
export function mulberry32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
