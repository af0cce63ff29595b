import { describe, expect, it } from 'vitest';
import type { Dataset } from '../src/scoring/data.js';
import { binFeature, binIndex, optimalGroups, type FeatureBins } from '../src/scoring/scorecard/binning.js';
import { fitLogistic } from '../src/scoring/scorecard/logistic.js';
import { trainScorecard } from '../src/scoring/scorecard/scorecard.js';
import { ScoringRng } from '../src/scoring/rng.js';

/** x uniform in [0, 10); P(bad | x) from `rate`. */
function draw(n: number, seed: number, rate: (x: number) => number): { x: Float64Array; y: Float64Array } {
  const rng = new ScoringRng(seed);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.float() * 10;
    y[i] = rng.float() < rate(x[i]) ? 1 : 0;
  }
  return { x, y };
}

const regular = (fb: FeatureBins) => fb.bins.filter((b) => b.kind === 'range' || b.kind === 'categories');
const rates = (fb: FeatureBins) => regular(fb).map((b) => b.bads / b.count);

function isMonotone(xs: number[], dir: 1 | -1): boolean {
  return xs.every((v, i) => i === 0 || dir * (v - xs[i - 1]) > 0);
}

describe('optimal binning', () => {
  const spec = { name: 'x', type: 'numeric' as const };

  it('follows the requested trend', () => {
    // Noisy ascending truth: the pre-bins are not monotone, the merged bins must be.
    const { x, y } = draw(4000, 1, (v) => 0.1 + 0.04 * v + 0.05 * Math.sin(3 * v));
    const asc = binFeature(spec, x, y, { trend: 'ascending' });
    expect(asc.trend).toBe('ascending');
    expect(regular(asc).length).toBeGreaterThan(2);
    expect(isMonotone(rates(asc), 1)).toBe(true);
    // WoE = ln(%good / %bad) falls as the bad rate rises.
    expect(isMonotone(regular(asc).map((b) => b.woe), -1)).toBe(true);
    const desc = binFeature(spec, x, y, { trend: 'descending' });
    expect(isMonotone(rates(desc), -1)).toBe(true);
    // auto picks the trend with the higher IV: ascending here.
    const auto = binFeature(spec, x, y, { trend: 'auto' });
    expect(auto.trend).toBe('ascending');
    expect(auto.iv).toBeGreaterThan(desc.iv);
    expect(auto.iv).toBeCloseTo(asc.iv, 12);
  });

  it('builds peak and valley shapes', () => {
    const { x, y } = draw(6000, 2, (v) => 0.05 + 0.5 * Math.exp(-((v - 5) ** 2) / 4));
    const peak = binFeature(spec, x, y, { trend: 'peak', maxBins: 8 });
    const r = rates(peak);
    const top = r.indexOf(Math.max(...r));
    expect(top).toBeGreaterThan(0);
    expect(top).toBeLessThan(r.length - 1);
    expect(isMonotone(r.slice(0, top + 1), 1)).toBe(true);
    expect(isMonotone(r.slice(top), -1)).toBe(true);
    const { x: xv, y: yv } = draw(6000, 3, (v) => 0.6 - 0.5 * Math.exp(-((v - 5) ** 2) / 4));
    const valley = rates(binFeature(spec, xv, yv, { trend: 'valley', maxBins: 8 }));
    const low = valley.indexOf(Math.min(...valley));
    expect(isMonotone(valley.slice(0, low + 1), -1)).toBe(true);
    expect(isMonotone(valley.slice(low), 1)).toBe(true);
    expect(valley.length).toBeGreaterThan(3);
  });

  it('respects the minimum bin share and the bin limit', () => {
    const { x, y } = draw(3000, 4, (v) => 0.05 + 0.06 * v);
    const fb = binFeature(spec, x, y, { trend: 'ascending', maxBins: 4, minBinShare: 0.1 });
    expect(regular(fb).length).toBeLessThanOrEqual(4);
    for (const b of regular(fb)) expect(b.count).toBeGreaterThanOrEqual(300);
  });

  it('finds the IV-maximising grouping (exhaustive check on small inputs)', () => {
    const rng = new ScoringRng(5);
    for (let trial = 0; trial < 20; trial++) {
      const cells = Array.from({ length: 7 }, () => ({ goods: 5 + Math.floor(rng.float() * 40), bads: 1 + Math.floor(rng.float() * 20) }));
      const G = cells.reduce((a, c) => a + c.goods, 0);
      const B = cells.reduce((a, c) => a + c.bads, 0);
      const ivOf = (ends: number[]) => {
        let s = 0;
        let iv = 0;
        const rs: number[] = [];
        for (const e of ends) {
          let g = 0, b = 0;
          for (let c = s; c <= e; c++) {
            g += cells[c].goods;
            b += cells[c].bads;
          }
          const dg = (g + 0.5) / G;
          const db = (b + 0.5) / B;
          iv += (dg - db) * Math.log(dg / db);
          rs.push((b + 0.5) / (g + b + 1));
          s = e + 1;
        }
        return { iv, rs };
      };
      // Every composition of 7 cells into ≤ 4 contiguous groups.
      let best = -Infinity;
      for (let mask = 0; mask < 1 << 6; mask++) {
        const ends: number[] = [];
        for (let i = 0; i < 6; i++) if (mask & (1 << i)) ends.push(i);
        ends.push(6);
        if (ends.length > 4) continue;
        const { iv, rs } = ivOf(ends);
        if (isMonotone(rs, 1) && iv > best) best = iv;
      }
      const got = optimalGroups(cells, 'ascending', 4, 1, G, B, 0.5)!;
      expect(ivOf(got).iv).toBeCloseTo(best, 10);
    }
  });

  it('gives missing and special values bins of their own with real WoE', () => {
    const rng = new ScoringRng(6);
    const n = 4000;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = rng.float();
      if (u < 0.1) {
        x[i] = NaN; // missing: risky
        y[i] = rng.float() < 0.6 ? 1 : 0;
      } else if (u < 0.2) {
        x[i] = -999; // special: safe
        y[i] = rng.float() < 0.05 ? 1 : 0;
      } else {
        x[i] = rng.float() * 10;
        y[i] = rng.float() < 0.1 + 0.03 * x[i] ? 1 : 0;
      }
    }
    const fb = binFeature(spec, x, y, { specialValues: [-999, -998] });
    const missing = fb.bins.find((b) => b.kind === 'missing')!;
    const special = fb.bins.find((b) => b.kind === 'special' && b.value === -999)!;
    const empty = fb.bins.find((b) => b.kind === 'special' && b.value === -998)!;
    let G = 0, B = 0;
    for (const v of y) {
      if (v) B++;
      else G++;
    }
    expect(missing.count).toBeGreaterThan(300);
    expect(missing.woe).toBeCloseTo(Math.log(((missing.goods + 0.5) / G) / ((missing.bads + 0.5) / B)), 12);
    expect(missing.woe).toBeLessThan(-1);
    expect(special.woe).toBeGreaterThan(1);
    // Specials are not mixed into the ranges.
    expect(regular(fb)[0].lo).toBe(-Infinity);
    expect(regular(fb).reduce((a, b) => a + b.count, 0)).toBe(n - missing.count - special.count);
    // An empty special bin is flagged and scores as the riskiest regular bin, not 0.
    expect(empty.empty).toBe(true);
    expect(empty.woe).toBe(Math.min(...regular(fb).map((b) => b.woe)));
    expect(binIndex(fb, NaN)).toBe(fb.bins.indexOf(missing));
    expect(binIndex(fb, -999)).toBe(fb.bins.indexOf(special));
    expect(fb.bins[binIndex(fb, 9.5)].kind).toBe('range');
  });

  it('groups categories by bad rate', () => {
    const rng = new ScoringRng(7);
    const cats = ['a', 'b', 'c', 'd', 'e', 'f'];
    const rate = [0.05, 0.5, 0.06, 0.45, 0.2, 0.22];
    const n = 6000;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = Math.floor(rng.float() * 6);
      y[i] = rng.float() < rate[x[i]] ? 1 : 0;
    }
    const fb = binFeature({ name: 'c', type: 'categorical', categories: cats }, x, y, { maxBins: 3 });
    const groups = regular(fb).map((b) => b.categories!.map((c) => cats[c]).join(''));
    expect(groups).toEqual(['ac', 'ef', 'bd']);
    expect(isMonotone(rates(fb), 1)).toBe(true);
  });
});

describe('logistic regression', () => {
  it('reaches the penalised optimum (zero gradient)', () => {
    const rng = new ScoringRng(8);
    const n = 2000;
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = rng.float() * 2 - 1;
      b[i] = rng.float() * 2 - 1;
      y[i] = rng.float() < 1 / (1 + Math.exp(-(0.5 + 2 * a[i] - b[i]))) ? 1 : 0;
    }
    const lambda = 0.01;
    const fit = fitLogistic([a, b], y, lambda);
    expect(fit.converged).toBe(true);
    const g = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(fit.intercept + fit.coef[0] * a[i] + fit.coef[1] * b[i])));
      g[0] += p - y[i];
      g[1] += (p - y[i]) * a[i];
      g[2] += (p - y[i]) * b[i];
    }
    g[1] += lambda * n * fit.coef[0];
    g[2] += lambda * n * fit.coef[1];
    for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-8);
    expect(fit.coef[0]).toBeGreaterThan(1.4);
    expect(fit.coef[1]).toBeLessThan(-0.6);
  });
});

describe('scorecard', () => {
  function data(): Dataset {
    const rng = new ScoringRng(9);
    const n = 3000;
    const inc = new Float64Array(n);
    const age = new Float64Array(n);
    const noise = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      inc[i] = rng.float() < 0.05 ? NaN : rng.float() * 100;
      age[i] = 18 + rng.float() * 50;
      noise[i] = rng.float();
      const m = -1 - 0.03 * (Number.isNaN(inc[i]) ? 0 : inc[i] - 50) - 0.02 * (age[i] - 40) + (Number.isNaN(inc[i]) ? 1.5 : 0);
      y[i] = rng.float() < 1 / (1 + Math.exp(-m)) ? 1 : 0;
    }
    return {
      features: [
        { name: 'income', type: 'numeric' },
        { name: 'age', type: 'numeric' },
        { name: 'noise', type: 'numeric' },
      ],
      columns: [inc, age, noise],
      nRows: n,
      target: y,
    };
  }

  it('scales points by PDO: points add up, points0 at odds0, +pdo doubles the odds', () => {
    const ds = data();
    const sc = trainScorecard(ds, { points0: 600, odds0: 50, pdo: 20 });
    const { factor, offset } = sc.j.scaling;
    expect(factor).toBeCloseTo(20 / Math.LN2, 12);
    expect(offset).toBeCloseTo(600 - (20 / Math.LN2) * Math.log(50), 12);
    for (let r = 0; r < 50; r++) {
      const row = ds.columns.map((c) => c[r]);
      const score = sc.score(row);
      const p = sc.predict(row);
      // score = offset + factor · ln(odds of good)
      expect(score).toBeCloseTo(offset + factor * Math.log((1 - p) / p), 8);
    }
    // A score of 600 means odds of 50:1; 620 means 100:1.
    const oddsAt = (s: number) => Math.exp((s - offset) / factor);
    expect(oddsAt(600)).toBeCloseTo(50, 10);
    expect(oddsAt(620)).toBeCloseTo(100, 10);
    // The noise feature carries no information and stays out.
    expect(sc.j.model.map((f) => f.binning.feature)).toEqual(['income', 'age']);
    // Missing income is risky in the data, so its bin costs points.
    const income = sc.j.model[0];
    const miss = income.binning.bins.findIndex((b) => b.kind === 'missing');
    expect(income.binning.bins[miss].woe).toBeLessThan(-0.3);
    expect(income.points[miss]).toBeLessThan(Math.max(...income.points) - 10);
  });

  it('gives adverse-action reasons: the bins that cost the most points', () => {
    const ds = data();
    const sc = trainScorecard(ds);
    const row = [NaN, 20, 0.5];
    const reasons = sc.reasons(row);
    expect(reasons[0].feature).toBe('income');
    expect(reasons[0].value).toBe('missing');
    expect(reasons[0].bin).toBe('missing');
    for (const r of reasons) expect(r.lost).toBeCloseTo(r.maxPoints - r.points, 12);
    expect(reasons[0].lost).toBeGreaterThanOrEqual(reasons[1].lost);
    const best = [99, 67, 0.5];
    expect(sc.reasons(best).every((r) => r.lost < 1e-9)).toBe(true);
  });
});
