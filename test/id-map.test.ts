import { describe, expect, it } from 'vitest';
import { IdMap } from '../src/market/id-map.js';
import { orderKey } from '../src/stream/books.js';

describe('IdMap', () => {
  it('behaves as a Map of order keys (set, get, take, size, clear), integer and string keys alike', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    for (let round = 0; round < 4; round++) {
      const a = new IdMap();
      const b = new Map<string, number>();
      const ids: string[] = [];
      for (let i = 0; i < 3_000; i++) {
        const r = rnd();
        ids.push(r < 0.7 ? String(Math.floor(rnd() * 1e6) + (round % 2 ? 1e14 : 0)) : r < 0.8 ? `x${Math.floor(rnd() * 500)}` : r < 0.85 ? `0${Math.floor(rnd() * 50)}` : String(Math.floor(rnd() * 4_096) * 4_096));
      }
      for (let op = 0; op < 50_000; op++) {
        const id = ids[Math.floor(rnd() * ids.length)];
        const r = rnd();
        if (r < 0.5) {
          if (a.size < 4_096) {
            a.set(orderKey(id), op * 1.5);
            b.set(id, op * 1.5);
          }
        } else if (r < 0.7) expect(a.get(orderKey(id))).toBe(b.get(id));
        else if (r < 0.9995) {
          expect(a.take(orderKey(id))).toBe(b.get(id));
          b.delete(id);
        } else {
          a.clear();
          b.clear();
        }
        expect(a.size).toBe(b.size);
      }
      for (const [k, v] of b) expect(a.get(orderKey(k))).toBe(v);
    }
  });

  it('keeps numbers that are not non-negative safe integers apart from the table, and walks every entry', () => {
    const a = new IdMap();
    const keys = [0, 1, -1, -0.5, 1.5, 2 ** 53, 2 ** 40, 'x', '1'];
    keys.forEach((k, i) => a.set(k, i));
    expect(a.size).toBe(keys.length);
    keys.forEach((k, i) => expect(a.get(k)).toBe(i));
    const seen = new Map<string | number, number>();
    a.forEach((v, k) => seen.set(k, v));
    expect([...seen.keys()].sort()).toEqual([...keys].sort());
    expect(a.take(-0.5)).toBe(3);
    expect(a.has(-0.5)).toBe(false);
    expect(a.delete(2 ** 40)).toBe(true);
    expect(a.delete(2 ** 40)).toBe(false);
    expect(a.size).toBe(keys.length - 2);
  });
});
