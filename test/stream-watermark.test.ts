import { describe, expect, it } from 'vitest';
import { Watermark, type WatermarkOutput } from '../src/stream/watermark.js';
import { rng } from './helpers/seeded.js';

class Collect implements WatermarkOutput<number> {
  released: number[] = [];
  late: [number, number][] = [];
  tooLate: [number, number][] = [];
  w: Watermark<number> | undefined;
  onRelease(item: number, ts: number): void {
    expect(ts).toBeLessThanOrEqual(this.w!.current);
    this.released.push(item);
  }
  onLate(item: number, _ts: number, lateness: number): void {
    this.late.push([item, lateness]);
  }
  onTooLate(item: number, _ts: number, lateness: number): void {
    this.tooLate.push([item, lateness]);
  }
}

describe('Watermark', () => {
  it('releases a shuffled stream in event-time order when disorder stays within the bound', () => {
    const r = rng(42);
    const times: number[] = [];
    let t = 0;
    for (let i = 0; i < 5000; i++) times.push((t += Math.floor(r() * 5)));
    // jitter each arrival by up to 100 ms
    const arrivals = times.map((ts, i) => ({ ts, i, at: ts + r() * 100 })).sort((a, b) => a.at - b.at);
    const out = new Collect();
    const w = (out.w = new Watermark(out, { maxOutOfOrderMs: 100, allowedLatenessMs: 0 }));
    for (const a of arrivals) w.push(a.i, a.ts);
    w.flush();
    expect(out.late).toEqual([]);
    expect(out.tooLate).toEqual([]);
    expect(out.released.length).toBe(5000);
    const releasedTimes = out.released.map((i) => times[i]);
    for (let i = 1; i < releasedTimes.length; i++) expect(releasedTimes[i]).toBeGreaterThanOrEqual(releasedTimes[i - 1]);
    // ties keep arrival order
    const arrivalRank = new Map(arrivals.map((a, k) => [a.i, k]));
    for (let i = 1; i < out.released.length; i++) {
      if (times[out.released[i]] === times[out.released[i - 1]]) expect(arrivalRank.get(out.released[i])!).toBeGreaterThan(arrivalRank.get(out.released[i - 1])!);
    }
    expect(w.released).toBe(5000);
  });

  it('sends late events to the late output and events beyond the allowed lateness to dead letters; none lost', () => {
    const out = new Collect();
    const w = (out.w = new Watermark(out, { maxOutOfOrderMs: 10, allowedLatenessMs: 50 }));
    w.push(1, 1000);
    w.push(2, 1100); // watermark 1090: releases 1
    expect(out.released).toEqual([1]);
    expect(w.current).toBe(1090);
    w.push(3, 1095); // on time (>= watermark), buffered
    w.push(4, 1060); // 30 ms late -> late output
    w.push(5, 1000); // 90 ms late -> too late
    w.push(6, NaN); // unusable time -> too late, not lost
    expect(out.late).toEqual([[4, 30]]);
    expect(out.tooLate.map((x) => x[0])).toEqual([5, 6]);
    w.flush();
    expect(out.released).toEqual([1, 3, 2]);
    expect(w.released + w.late + w.tooLate).toBe(6);
  });

  it('passes an in-order stream straight through with no delay', () => {
    const out = new Collect();
    const w = (out.w = new Watermark(out));
    for (let i = 0; i < 100; i++) {
      w.push(i, i * 10);
      expect(out.released.length).toBe(i + 1);
    }
    expect(w.buffered).toBe(0);
    expect(w.maxBufferedSeen).toBe(0);
  });

  it('bounds the buffer', () => {
    const out = new Collect();
    const w = (out.w = new Watermark(out, { maxOutOfOrderMs: 1e9, maxBuffered: 10 }));
    for (let i = 0; i < 100; i++) w.push(i, i);
    expect(w.buffered).toBe(10);
    expect(w.forcedReleases).toBe(90);
    expect(out.released).toEqual(Array.from({ length: 90 }, (_, i) => i));
  });

  it('merges in-order and out-of-order arrivals by time, ties in arrival order', () => {
    const out = new Collect();
    const w = (out.w = new Watermark(out, { maxOutOfOrderMs: 1000 }));
    // [item, ts]: 2, 4, 5 and 7 arrive older than the newest buffered event
    const arrivals: [number, number][] = [[0, 100], [1, 200], [2, 150], [3, 200], [4, 150], [5, 100], [6, 300], [7, 200], [8, 300]];
    for (const [i, ts] of arrivals) w.push(i, ts);
    expect(w.buffered).toBe(9);
    w.advance(200);
    expect(out.released).toEqual([0, 5, 2, 4, 1, 3, 7]);
    w.push(9, 250);
    w.flush();
    expect(out.released).toEqual([0, 5, 2, 4, 1, 3, 7, 9, 6, 8]);
    expect(w.buffered).toBe(0);
  });

  it('releases a long in-order run held back by the bound, across buffer growth', () => {
    const out = new Collect();
    const w = (out.w = new Watermark(out, { maxOutOfOrderMs: 5000 }));
    for (let i = 0; i < 5000; i++) w.push(i, i);
    expect(out.released.length).toBe(0);
    w.push(5000, 6000);
    expect(out.released).toEqual(Array.from({ length: 1001 }, (_, i) => i));
    w.flush();
    expect(out.released.length).toBe(5001);
    expect(out.released[5000]).toBe(5000);
  });
});
