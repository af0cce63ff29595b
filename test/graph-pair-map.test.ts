import { describe, expect, it } from 'vitest';
import { PairMap } from '../src/graph/pair-map.js';
import { mulberry32 } from '../src/graph/rng.js';

describe('PairMap', () => {
  it('agrees with a Map on random pairs through many resizes, and keeps insertion order', () => {
    const rnd = mulberry32(7);
    const pm = new PairMap<number>();
    const ref = new Map<string, number>();
    const order: [number, number][] = [];
    for (let i = 0; i < 50_000; i++) {
      const a = Math.floor(rnd() * 3000);
      const b = i % 5 === 0 ? 2_000_000_000 - a : Math.floor(rnd() * 3000);
      const k = `${a},${b}`;
      expect(pm.get(a, b)).toBe(ref.get(k));
      if (!ref.has(k)) {
        ref.set(k, i);
        pm.add(a, b, i);
        order.push([a, b]);
      }
    }
    expect(pm.size).toBe(ref.size);
    for (let e = 0; e < pm.size; e++) {
      expect([pm.from[e], pm.to[e]]).toEqual(order[e]);
      expect(pm.get(order[e][0], order[e][1])).toBe(pm.values[e]);
    }
    expect([...ref.values()]).toEqual(pm.values);
    // (a, b) and (b, a) are different pairs.
    expect(pm.get(1, 2) === pm.get(2, 1) && pm.get(1, 2) !== undefined).toBe(false);
    expect(pm.get(-1, -1)).toBeUndefined();
  });
});
