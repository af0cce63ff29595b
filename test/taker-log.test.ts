import { describe, expect, it } from 'vitest';
import { TakerLog } from '../src/stream/taker-log.js';

describe('TakerLog', () => {
  it('answers as a map of order key → (account, side, time) with a TTL and deletes', () => {
    let seed = 11;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const ttl = 500;
    const log = new TakerLog(ttl);
    // reference: key → entry, in insertion order (re-adding moves a key to the end)
    const ref = new Map<number | string, { account: string; side: 'buy' | 'sell'; t: number }>();
    let t = 1_000;
    for (let op = 0; op < 40_000; op++) {
      t += Math.floor(rnd() * 12);
      const key = rnd() < 0.9 ? Math.floor(rnd() * 300) : `k${Math.floor(rnd() * 30)}`;
      const r = rnd();
      if (r < 0.5) {
        const side = rnd() < 0.5 ? 'buy' : 'sell';
        log.add(key, `a${op}`, side, t);
        for (const [k, v] of ref) if (t - v.t > ttl) ref.delete(k);
        ref.set(key, { account: `a${op}`, side, t });
      } else if (r < 0.6) {
        log.delete(key);
        ref.delete(key);
      } else {
        const e = ref.get(key);
        const live = e !== undefined && t - e.t <= ttl;
        expect(log.accountOf(key, t)).toBe(live ? e.account : undefined);
        expect(log.sideOf(key, t)).toBe(live ? e.side : undefined);
      }
    }
  });
});

describe('TakerLog at its cap', () => {
  it('keeps the last maxKeys placements (oldest dropped first) and never answers with a stale entry', () => {
    let seed = 5;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const cap = 64;
    const log = new TakerLog(1e12, cap);
    const ref = new Map<number, { account: string; n: number }>();
    let adds = 0;
    for (let op = 0; op < 30_000; op++) {
      const key = Math.floor(rnd() * 1_000);
      if (rnd() < 0.5) {
        log.add(key, `a${op}`, 'buy', op);
        ref.set(key, { account: `a${op}`, n: adds++ });
      } else {
        const e = ref.get(key);
        const got = log.accountOf(key, op);
        expect(got).toBe(e !== undefined && adds - e.n <= cap ? e.account : undefined);
      }
    }
  });
});
