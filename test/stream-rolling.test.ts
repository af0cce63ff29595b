import { describe, expect, it } from 'vitest';
import { RollingWindow, RollingCount } from '../src/stream/rolling.js';
import { Ewma, EwRate } from '../src/stream/ewma.js';
import { OrderStatisticTree, RollingQuantile, P2Quantile } from '../src/stream/rolling-quantile.js';
import { KeyedState } from '../src/stream/keyed.js';
import { TimeHeap } from '../src/stream/heap.js';
import { formatScaled, parseDecimal, parsed, toScaledInt } from '../src/stream/scaled.js';
import { rng, sortQuantile, nearestRank } from './helpers/seeded.js';

/** Random (time, value) samples with non-decreasing times, bursts and gaps. */
function samples(seed: number, n: number, opts: { ints?: boolean } = {}): [number, number][] {
  const r = rng(seed);
  const out: [number, number][] = [];
  let t = 1_700_000_000_000;
  for (let i = 0; i < n; i++) {
    const u = r();
    t += u < 0.3 ? 0 : u < 0.9 ? Math.floor(r() * 50) : Math.floor(r() * 3000);
    const v = opts.ints ? Math.floor(r() * 20) : (r() - 0.5) * 1000 * (r() < 0.05 ? 100 : 1);
    out.push([t, v]);
  }
  return out;
}

function inWindow(data: [number, number][], upto: number, now: number, windowMs: number): number[] {
  const vals: number[] = [];
  for (let j = 0; j <= upto; j++) if (data[j][0] > now - windowMs) vals.push(data[j][1]);
  return vals;
}

describe('RollingWindow', () => {
  for (const seed of [1, 2, 3]) {
    it(`matches brute force (seed ${seed})`, () => {
      const data = samples(seed, 3000);
      const W = 1000;
      const w = new RollingWindow(W);
      const c = new RollingCount(W);
      for (let i = 0; i < data.length; i++) {
        const [t, v] = data[i];
        w.add(t, v);
        c.add(t);
        const vals = inWindow(data, i, t, W);
        expect(w.count).toBe(vals.length);
        expect(c.count).toBe(vals.length);
        const sum = vals.reduce((a, b) => a + b, 0);
        expect(Math.abs(w.sum - sum)).toBeLessThan(1e-7 * Math.max(1, Math.abs(sum)) + 1e-6);
        expect(w.min()).toBe(Math.min(...vals));
        expect(w.max()).toBe(Math.max(...vals));
        expect(w.mean()).toBeCloseTo(sum / vals.length, 6);
      }
      // advancing without samples empties the window exactly
      w.advance(data[data.length - 1][0] + W);
      expect(w.count).toBe(0);
      expect(w.sum).toBe(0);
      expect(Number.isNaN(w.min())).toBe(true);
    });
  }

  it('caps by count and treats late samples as arriving now', () => {
    const w = new RollingWindow(10_000, { maxCount: 3 });
    for (let i = 0; i < 5; i++) w.add(i, i);
    expect(w.count).toBe(3);
    expect(w.min()).toBe(2);
    w.add(1, 100); // late: counted at t=4
    expect(w.oldestTime()).toBe(3);
    expect(w.max()).toBe(100);
    w.add(5, NaN); // ignored
    expect(w.count).toBe(3);
  });
});

describe('Ewma', () => {
  it('equals the decayed weighted mean and variance computed directly', () => {
    const data = samples(7, 2000);
    const H = 500;
    const e = new Ewma(H);
    for (let i = 0; i < data.length; i++) {
      e.add(data[i][0], data[i][1]);
      if (i % 97 !== 0 && i !== data.length - 1) continue;
      const now = data[i][0];
      let W = 0;
      let S = 0;
      for (let j = 0; j <= i; j++) {
        const w = Math.pow(2, -(now - data[j][0]) / H);
        W += w;
        S += w * data[j][1];
      }
      const mean = S / W;
      let V = 0;
      for (let j = 0; j <= i; j++) V += Math.pow(2, -(now - data[j][0]) / H) * (data[j][1] - mean) ** 2;
      expect(e.weight).toBeCloseTo(W, 6);
      expect(Math.abs(e.mean - mean)).toBeLessThan(1e-6 * (1 + Math.abs(mean)));
      expect(Math.abs(e.variance - V / W)).toBeLessThanOrEqual(1e-6 * (V / W) + 1e-9);
    }
  });

  it('rate converges to a constant event rate', () => {
    const r = new EwRate(10_000);
    for (let t = 0; t < 200_000; t += 10) r.add(t); // 100 events/s
    expect(r.rate()).toBeGreaterThan(98);
    expect(r.rate()).toBeLessThan(102);
  });
});

describe('OrderStatisticTree and RollingQuantile', () => {
  it('tree supports insert/delete/kth/rank like a sorted array', () => {
    const r = rng(11);
    const t = new OrderStatisticTree();
    const ref: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (ref.length > 0 && r() < 0.4) {
        const k = Math.floor(r() * ref.length);
        const v = ref[k];
        ref.splice(k, 1);
        expect(t.delete(v)).toBe(true);
      } else {
        const v = Math.floor(r() * 300) / 4;
        ref.push(v);
        t.insert(v);
      }
      if (i % 50 === 0) {
        const s = [...ref].sort((a, b) => a - b);
        expect(t.size).toBe(s.length);
        for (let k = 0; k < s.length; k += 7) expect(t.kth(k)).toBe(s[k]);
        const x = Math.floor(r() * 300) / 4;
        expect(t.rank(x)).toBe(s.filter((v) => v < x).length);
        expect(t.rank(x, true)).toBe(s.filter((v) => v <= x).length);
      }
    }
    expect(t.delete(12345.5)).toBe(false);
  });

  for (const [seed, ints] of [[3, false], [4, true]] as const) {
    it(`windowed quantiles equal a sort-based quantile exactly (seed ${seed}${ints ? ', many ties' : ''})`, () => {
      const data = samples(seed, 2500, { ints });
      const W = 2000;
      const q = new RollingQuantile(W);
      for (let i = 0; i < data.length; i++) {
        q.add(data[i][0], data[i][1]);
        const vals = inWindow(data, i, data[i][0], W);
        expect(q.count).toBe(vals.length);
        for (const p of [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1]) {
          expect(q.quantile(p)).toBe(sortQuantile(vals, p));
          expect(q.nearestRank(p)).toBe(nearestRank(vals, p));
        }
      }
    });
  }

  it('count-capped window keeps the newest samples', () => {
    const q = new RollingQuantile(Infinity, { maxCount: 100 });
    const r = rng(5);
    const all: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const v = r();
      all.push(v);
      q.add(i, v);
    }
    expect(q.quantile(0.5)).toBe(sortQuantile(all.slice(-100), 0.5));
    expect(q.cdf(q.max())).toBe(1);
  });

  it('P² tracks quantiles of a long stream within a small error', () => {
    const r = rng(9);
    const vals: number[] = [];
    const p50 = new P2Quantile(0.5);
    const p99 = new P2Quantile(0.99);
    for (let i = 0; i < 50_000; i++) {
      // lognormal-ish, like trade sizes
      const v = Math.exp(2 * (r() + r() + r() - 1.5));
      vals.push(v);
      p50.add(i, v);
      p99.add(i, v);
    }
    const e50 = sortQuantile(vals, 0.5);
    const e99 = sortQuantile(vals, 0.99);
    expect(Math.abs(p50.value() - e50) / e50).toBeLessThan(0.02);
    expect(Math.abs(p99.value() - e99) / e99).toBeLessThan(0.05);
    const small = new P2Quantile(0.5);
    small.add(0, 3);
    small.add(0, 1);
    expect(small.value()).toBe(1);
  });
});

describe('KeyedState', () => {
  it('evicts idle keys on event time and bounds memory', () => {
    const evicted: string[] = [];
    const k = new KeyedState<string, { n: number }>(() => ({ n: 0 }), { idleMs: 1000, maxKeys: 50, onEvict: (key) => evicted.push(key) });
    for (let t = 0; t < 10_000; t += 10) {
      k.get(`k${(t / 10) % 20}`, t).n++; // 20 hot keys
      if (t % 500 === 0) k.get(`cold${t}`, t).n++;
      k.sweep(t);
      expect(k.size).toBeLessThanOrEqual(50);
    }
    // every hot key survived, cold keys were evicted after being idle
    for (let i = 0; i < 20; i++) expect(k.has(`k${i}`)).toBe(true);
    expect(k.has('cold0')).toBe(false);
    expect(evicted.every((key) => key.startsWith('cold'))).toBe(true);
    expect(k.evictions).toBeGreaterThan(10);
    // idle for longer than 2.2 × idleMs -> all gone
    k.sweep(10_000 + 2200);
    k.sweep(10_000 + 3400);
    expect(k.size).toBe(0);
  });

  it('behaves like a plain map through random gets, peeks, deletes, sweeps and forced evictions (the last-key memo is invisible)', () => {
    const r = rng(7);
    let made = 0;
    const k = new KeyedState<string, { id: number; key: string }>((key) => ({ id: made++, key }), { idleMs: 50, maxKeys: 6 });
    // reference: key -> [value, lastSeen], insertion order as the cap's eviction order
    const ref = new Map<string, { v: { id: number; key: string }; seen: number }>();
    let t = 0;
    for (let i = 0; i < 20_000; i++) {
      t += Math.floor(r() * 4);
      const key = `a${Math.floor(r() * 9)}`;
      const op = r();
      if (op < 0.5) {
        const v = k.get(key, t);
        const e = ref.get(key);
        if (e === undefined || t - e.seen > 50) {
          expect(v.id, `get ${key} at ${t} is new`).toBe(made - 1);
          if (e === undefined) ref.set(key, { v, seen: t });
          else Object.assign(e, { v, seen: t });
        } else {
          expect(v).toBe(e.v);
          if (t > e.seen) e.seen = t;
        }
        expect(v.key).toBe(key);
      } else if (op < 0.8) {
        const e = ref.get(key);
        expect(k.peek(key, t)).toBe(e !== undefined && t - e.seen <= 50 ? e.v : undefined);
      } else if (op < 0.9) {
        k.delete(key);
        ref.delete(key);
      } else {
        k.sweep(t);
        for (const [key2, e] of ref) if (!k.has(key2)) expect(t - e.seen, `${key2} swept only when idle`).toBeGreaterThanOrEqual(50);
        for (const key2 of [...ref.keys()]) if (!k.has(key2)) ref.delete(key2);
      }
      // forced evictions (cap 6) drop keys the reference still has
      for (const key2 of [...ref.keys()]) if (!k.has(key2)) ref.delete(key2);
      expect(k.size).toBe(ref.size);
    }
    expect(k.forcedEvictions).toBeGreaterThan(0);
    expect(k.evictions).toBeGreaterThan(0);
  });

  it('forces eviction at the cap', () => {
    const k = new KeyedState<number, number>(() => 0, { idleMs: 1e9, maxKeys: 10 });
    for (let i = 0; i < 100; i++) k.get(i, i);
    expect(k.size).toBe(10);
    expect(k.forcedEvictions).toBe(90);
  });
});

describe('TimeHeap and scaled decimals', () => {
  it('pops in (time, insertion) order', () => {
    const r = rng(1);
    const h = new TimeHeap<number>();
    const ref: [number, number][] = [];
    for (let i = 0; i < 2000; i++) {
      const t = Math.floor(r() * 100);
      h.push(t, i);
      ref.push([t, i]);
    }
    ref.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const out: number[] = [];
    while (h.size) out.push(h.pop()!);
    expect(out).toEqual(ref.map((x) => x[1]));
  });

  it('parses decimals exactly', () => {
    expect(parseDecimal('61837.63000000')).toBe(true);
    expect([parsed.mantissa, parsed.scale]).toEqual([6183763, 2]);
    expect(parseDecimal('0.00100')).toBe(true);
    expect([parsed.mantissa, parsed.scale]).toEqual([1, 3]);
    expect(parseDecimal('-12.5')).toBe(true);
    expect(parsed.mantissa).toBe(-125);
    expect(parseDecimal('1e5')).toBe(false);
    expect(parseDecimal('')).toBe(false);
    expect(parseDecimal('1.2.3')).toBe(false);
    expect(toScaledInt('1.5', 2)).toBe(150);
    expect(toScaledInt('1.505', 2)).toBeNaN();
    expect(formatScaled(150, 2)).toBe('1.5');
    expect(formatScaled(5, 3)).toBe('0.005');
    expect(formatScaled(-5, 3)).toBe('-0.005');
    expect(formatScaled(700, 2)).toBe('7');
  });
});

describe('pairKey', () => {
  it('gives the composite key by value, the same object for a repeated pair, across markets and cache clears', async () => {
    const { pairKey } = await import('../src/stream/keyed.js');
    const k1 = pairKey('acct1', 'BTCUSDT');
    expect(k1).toBe('acct1\u0000BTCUSDT');
    expect(pairKey('acct2', 'BTCUSDT')).toBe('acct2\u0000BTCUSDT');
    expect(pairKey('acct1', 'ETHUSDT')).toBe('acct1\u0000ETHUSDT');
    expect(Object.is(pairKey('acct1', 'BTCUSDT'), k1)).toBe(true);
    // past the cache bound (it is cleared and refilled), keys stay right
    let wrong = 0;
    for (let i = 0; i < 300_000; i++) if (pairKey(`a${i % 1000}`, `m${i % 301}`) !== `a${i % 1000}\u0000m${i % 301}`) wrong++;
    expect(wrong).toBe(0);
    expect(pairKey('acct1', 'BTCUSDT')).toBe(k1);
    // repeated calls (the last pair is remembered) and alternations stay right
    for (const [a, b] of [['x', 'y'], ['x', 'y'], ['x', 'z'], ['w', 'z'], ['x', 'z'], ['x', 'y'], ['x\u0000y', ''], ['x', 'y\u0000']]) expect(pairKey(a, b)).toBe(`${a}\u0000${b}`);
  });
});
