import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compareDecimal, normalizeDecimal } from '../src/events/decimal.js';
import { L2Book, checkLevels, isUnsignedDecimal, type PriceLevel } from '../src/market/l2-book.js';
import { BinanceDecoder } from '../src/sources/binance.js';
import type { Emit } from '../src/pipeline/types.js';
import type { ExchangeEvent } from '../src/events/schema.js';

const FUTURES = new URL('../../shared/data/market/binance-usdm-btcusdt-20240808.ndjson.gz', import.meta.url);
const SPOT = new URL('../../shared/data/market/binance-spot-btcusdt-20240808.ndjson.gz', import.meta.url);

/** A deliberately naive reference: a Map by normalised price, sorted on every read with exact decimal comparison. */
class NaiveBook {
  bids = new Map<string, [string, string]>();
  asks = new Map<string, [string, string]>();
  set(side: 'bid' | 'ask', price: string, size: string): void {
    const m = side === 'bid' ? this.bids : this.asks;
    const key = normalizeDecimal(price);
    m.delete(key);
    if (!/^[0.]+$/.test(size)) m.set(key, [price, size]);
  }
  top(side: 'bid' | 'ask', n: number): PriceLevel[] {
    const m = side === 'bid' ? this.bids : this.asks;
    const sign = side === 'bid' ? -1 : 1;
    return [...m.values()].sort((a, b) => sign * compareDecimal(a[0], b[0])).slice(0, n);
  }
}

describe('L2Book', { timeout: 120_000 }, () => {
  it('sets, updates and removes levels, keeping the exact strings and numeric order', () => {
    const b = new L2Book();
    b.set('bid', '9.5', '1');
    b.set('bid', '10.00', '2.50');
    b.set('bid', '100', '3');
    b.set('ask', '101.10', '0.001');
    b.set('ask', '1000', '5');
    expect(b.bestBid()).toEqual(['100', '3']);
    expect(b.top('bid', 5)).toEqual([['100', '3'], ['10.00', '2.50'], ['9.5', '1']]);
    expect(b.bestAsk()).toEqual(['101.10', '0.001']);
    b.set('bid', '100', '0.000'); // any zero spelling removes
    expect(b.bestBid()).toEqual(['10.00', '2.50']);
    expect(b.count('bid')).toBe(2);
    b.set('bid', '10', '7'); // same value, other spelling: one level, latest spelling wins
    expect(b.count('bid')).toBe(2);
    expect(b.top('bid', 1)).toEqual([['10', '7']]);
    expect(b.sizeAt('bid', '10.0')).toBe('7');
    b.set('ask', '555', '0'); // removing an absent level is a no-op
    expect(b.count('ask')).toBe(2);
    expect(b.crossed()).toBe(false);
    b.set('bid', '2000', '1');
    expect(b.crossed()).toBe(true);
  });

  it('treats spellings of one price as one level, also after it was removed and came back', () => {
    const b = new L2Book();
    b.set('bid', '1.50', '1');
    b.set('bid', '1.50', '0'); // gone; "1.50" is remembered
    b.set('bid', '1.5', '2'); // back, spelled differently
    expect(b.top('bid', 5)).toEqual([['1.5', '2']]);
    b.set('bid', '1.50', '0'); // the old spelling removes it
    expect(b.count('bid')).toBe(0);
    b.set('bid', '1.5', '3');
    b.set('bid', '1.50', '4'); // the old spelling updates it
    expect(b.top('bid', 5)).toEqual([['1.50', '4']]);
    expect(b.count('bid')).toBe(1);
    // Many removals and returns keep the count right (tombstones are swept).
    for (let r = 0; r < 3; r++) {
      for (let i = 0; i < 5000; i++) b.set('ask', String(100 + i), '1');
      for (let i = 0; i < 5000; i++) b.set('ask', String(100 + i), '0');
    }
    expect(b.count('ask')).toBe(0);
    expect(b.bestAsk()).toBeUndefined();
  });

  it('orders prices exactly even where doubles collide', () => {
    const b = new L2Book();
    // Both parse to the same double; they are still different prices.
    b.set('ask', '0.10000000000000000001', '1');
    b.set('ask', '0.1', '2');
    b.set('ask', '0.10000000000000000002', '3');
    expect(b.top('ask', 3)).toEqual([['0.1', '2'], ['0.10000000000000000001', '1'], ['0.10000000000000000002', '3']]);
    b.set('ask', '0.10000000000000000001', '0');
    expect(b.top('ask', 3)).toEqual([['0.1', '2'], ['0.10000000000000000002', '3']]);
  });

  it('replaces from a snapshot, dropping zero rows and collapsing repeats', () => {
    const b = new L2Book();
    b.set('bid', '1', '1');
    b.replace(
      [['5', '1'], ['7', '2'], ['6', '0'], ['7.0', '4']],
      [['8', '1'], ['9', '1']],
    );
    expect(b.top('bid', 10)).toEqual([['7.0', '4'], ['5', '1']]);
    expect(b.count('ask')).toBe(2);
    expect(b.sizeAt('bid', '1')).toBeUndefined();
  });

  it('matches a naive reference book over many random operations (chunk splits and merges)', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const b = new L2Book();
    const ref = new NaiveBook();
    for (let step = 0; step < 20_000; step++) {
      const side = rnd() < 0.5 ? 'bid' : 'ask';
      const cents = Math.floor(rnd() * 3000);
      // Mix spellings of the same price to exercise the "same value" path.
      const price = rnd() < 0.1 ? `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}00` : (cents / 100).toFixed(2);
      const size = rnd() < 0.35 ? '0' : (rnd() * 10).toFixed(3);
      b.set(side, price, size);
      ref.set(side, price, size);
      if (step % 997 === 0 || step === 19_999) {
        for (const s of ['bid', 'ask'] as const) {
          expect(b.count(s)).toBe(ref.top(s, 1e9).length);
          expect(b.top(s, 50).map((l) => Number(l[0]))).toEqual(ref.top(s, 50).map((l) => Number(l[0])));
          expect(b.top(s, 50).map((l) => l[1])).toEqual(ref.top(s, 50).map((l) => l[1]));
        }
      }
    }
    expect(b.count('bid') + b.count('ask')).toBeGreaterThan(1000);
  });

  it('rebuilt from the real Binance diffs, its top equals the exchange book ticker at the same update id', () => {
    for (const [url, market] of [[FUTURES, 'BTCUSDT-PERP'], [SPOT, 'BTCUSDT']] as const) {
      const lines = gunzipSync(readFileSync(url)).toString('utf8').split('\n');
      const dec = new BinanceDecoder();
      const bboByU = new Map<number, ExchangeEvent & { type: 'bbo' }>();
      const tops: [number, PriceLevel, PriceLevel][] = [];
      let lastDepth: number | undefined;
      const out: Emit = {
        event: (e) => {
          if (e.type === 'bbo') bboByU.set(e.updateId!, e);
          if (e.type === 'depth' && !e.snapshot) lastDepth = e.lastUpdateId;
        },
        reject: (r) => {
          throw new Error(r);
        },
      };
      const pos = { source: 'x', line: 0 };
      for (let i = 0; i < lines.length; i++) {
        if (lines[i] === '') continue;
        pos.line = i + 1;
        lastDepth = undefined;
        dec.decode(lines[i], pos, out);
        const book = dec.book(market)!;
        if (lastDepth !== undefined && book.reliable) tops.push([lastDepth, book.bestBid()!, book.bestAsk()!]);
      }
      let compared = 0;
      for (const [u, bid, ask] of tops) {
        const t = bboByU.get(u);
        if (!t) continue;
        compared++;
        expect([bid, ask]).toEqual([[t.bidPrice, t.bidSize], [t.askPrice, t.askSize]]);
      }
      // 629 (futures) and 564 (spot) diffs end exactly where a book ticker was published.
      expect(compared).toBeGreaterThan(500);
      const book = dec.book(market)!;
      expect(book.crossed()).toBe(false);
      expect(book.count('bid')).toBeGreaterThan(1000);
    }
  });
});

describe('level validation', () => {
  it('accepts plain decimal strings only', () => {
    for (const ok of ['0', '61837.63000000', '0.001', '007']) expect(isUnsignedDecimal(ok)).toBe(true);
    for (const bad of ['', '-1', '1e5', '1.', '.5', '1,5', ' 1', 'abc', 12, null]) expect(isUnsignedDecimal(bad)).toBe(false);
  });

  it('checks rows and drops extra fields', () => {
    expect(checkLevels([['1', '2', 'x']], 'b')).toEqual([['1', '2']]);
    expect(checkLevels([['1', '2'], ['1.5', 2]], 'b')).toMatch(/field b\[1\]/);
    expect(checkLevels('nope', 'a')).toMatch(/field a: expected an array/);
  });
});
