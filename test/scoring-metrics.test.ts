import { describe, expect, it } from 'vitest';
import { fitIsotonic, fitPlatt } from '../src/scoring/calibration.js';
import { buildDataset, GERMAN_COLUMNS, germanFeatureSpecs, inferFeatureSpecs, isMissingToken, loadTable, parseCsv, stratifiedFolds } from '../src/scoring/data.js';
import { auc, brier, calibrationTable, cost, costOptimalThreshold, gini, ks, logLoss, psi, scoreDistribution } from '../src/scoring/metrics.js';
import { ScoringRng } from '../src/scoring/rng.js';
import { DATA } from './helpers/cli.js';

describe('metrics', () => {
  it('AUC equals the share of correctly ordered bad/good pairs (ties half)', () => {
    const rng = new ScoringRng(1);
    for (let t = 0; t < 20; t++) {
      const n = 60;
      const y = Float64Array.from({ length: n }, () => (rng.float() < 0.3 ? 1 : 0));
      // Coarse scores so that ties happen.
      const s = Float64Array.from({ length: n }, (_, i) => Math.round((y[i] * 0.3 + rng.float()) * 8) / 8);
      let num = 0;
      let den = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (y[i] !== 1 || y[j] !== 0) continue;
          den++;
          num += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
        }
      }
      expect(auc(y, s)).toBeCloseTo(num / den, 12);
      expect(gini(y, s)).toBeCloseTo((2 * num) / den - 1, 12);
    }
  });

  it('KS by hand', () => {
    // Sorted scores: g g b g b b → cumulative goods 1/3,2/3,2/3,1,1,1; bads 0,0,1/3,1/3,2/3,1.
    const y = [0, 0, 1, 0, 1, 1];
    const s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    expect(ks(y, s)).toBeCloseTo(2 / 3, 12);
    // Tied scores move together: one group holding a good and a bad has no gap inside it.
    expect(ks([0, 1], [0.5, 0.5])).toBe(0);
    expect(ks([0, 1], [0.4, 0.5])).toBe(1);
  });

  it('log-loss, Brier and the calibration table', () => {
    expect(logLoss([1, 0], [0.8, 0.4])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12);
    expect(brier([1, 0], [0.8, 0.4])).toBeCloseTo((0.04 + 0.16) / 2, 12);
    const p = Array.from({ length: 100 }, (_, i) => i / 100);
    const y = p.map((v) => (v >= 0.5 ? 1 : 0));
    const t = calibrationTable(y, p, 10);
    expect(t.length).toBe(10);
    expect(t[0]).toMatchObject({ count: 10, observedRate: 0 });
    expect(t[0].meanPredicted).toBeCloseTo(0.045, 12);
    expect(t[9].observedRate).toBe(1);
  });

  it('PSI is 0 for the same distribution and grows with a shift', () => {
    const rng = new ScoringRng(2);
    const a = Float64Array.from({ length: 5000 }, () => rng.float());
    const ref = scoreDistribution(a, 10);
    expect(ref.shares.length).toBe(10);
    expect(psi(ref, a).psi).toBeCloseTo(0, 12);
    const shifted = a.map((v) => Math.min(1, v + 0.1));
    const r = psi(ref, shifted);
    // By hand: first bin empties (share 1e-4 floor), the others move one decile up.
    let expected = 0;
    r.bins.forEach((b) => {
      const e = Math.max(b.expected, 1e-4);
      const q = Math.max(b.actual, 1e-4);
      expected += (q - e) * Math.log(q / e);
    });
    expect(r.psi).toBeCloseTo(expected, 12);
    expect(r.psi).toBeGreaterThan(0.25);
  });

  it('cost and the cost-minimising threshold (brute force)', () => {
    const rng = new ScoringRng(3);
    const y = Float64Array.from({ length: 200 }, () => (rng.float() < 0.3 ? 1 : 0));
    const p = Float64Array.from(y, (v) => Math.round((0.3 * v + 0.7 * rng.float()) * 50) / 50);
    const best = costOptimalThreshold(y, p);
    let brute = Infinity;
    for (const t of [...new Set(p), 2]) brute = Math.min(brute, cost(y, p, t));
    expect(best.cost).toBe(brute);
    expect(cost(y, p, best.threshold)).toBe(best.cost);
    // Calling everyone bad costs one per good; calling everyone good costs five per bad.
    const goods = y.filter((v) => v === 0).length;
    expect(cost(y, p, -1)).toBe(goods);
    expect(cost(y, p, 2)).toBe(5 * (200 - goods));
  });
});

describe('calibration', () => {
  it('Platt recovers a known logistic link, isotonic is monotone and fits the rates', () => {
    const rng = new ScoringRng(4);
    const n = 5000;
    const m = Float64Array.from({ length: n }, () => rng.float() * 6 - 3);
    const y = Float64Array.from(m, (v) => (rng.float() < 1 / (1 + Math.exp(-(0.5 * v - 1))) ? 1 : 0));
    const platt = fitPlatt(m, y);
    if (platt.json.kind !== 'platt') throw new Error('kind');
    expect(platt.json.a).toBeCloseTo(0.5, 1);
    expect(platt.json.b).toBeCloseTo(-1, 1);
    const iso = fitIsotonic(m, y);
    let prev = -Infinity;
    for (let v = -3; v <= 3; v += 0.01) {
      const q = iso.apply(v);
      expect(q).toBeGreaterThanOrEqual(prev);
      prev = q;
    }
    expect(iso.apply(2.5)).toBeGreaterThan(0.4);
    expect(iso.apply(-2.5)).toBeLessThan(0.15);
  });
});

describe('data', () => {
  it('parses CSV with quotes and reads missing values as they come', () => {
    const t = parseCsv('id,amount,kind\r\n1,"1,5",a\n2,NA,"b ""x"""\n3,?,\n4,NaN,c\n5,,a\n');
    expect(t.header).toEqual(['id', 'amount', 'kind']);
    expect(t.rows[0]).toEqual(['1', '1,5', 'a']);
    expect(t.rows[1][2]).toBe('b "x"');
    for (const tok of ['', 'NA', 'NaN', '?', 'null']) expect(isMissingToken(tok)).toBe(true);
    const num = parseCsv('a;b\n1;x\n2.5e3;\n?;y\n');
    const specs = inferFeatureSpecs(num);
    expect(specs).toEqual([
      { name: 'a', type: 'numeric' },
      { name: 'b', type: 'categorical', categories: ['x', 'y'] },
    ]);
    const { dataset } = buildDataset(num, specs);
    expect([...dataset.columns[0]]).toEqual([1, 2500, NaN]);
    expect([...dataset.columns[1]]).toEqual([0, NaN, 1]);
  });

  it('loads German credit with named columns and bad = class 2', () => {
    const lt = loadTable(`${DATA}credit/german.data`);
    expect(lt.format).toBe('german');
    expect(lt.table.header).toEqual([...GERMAN_COLUMNS, 'bad']);
    const specs = germanFeatureSpecs(lt.table);
    expect(specs.find((s) => s.name === 'checking_status')).toEqual({ name: 'checking_status', type: 'categorical', categories: ['A11', 'A12', 'A13', 'A14'] });
    expect(specs.find((s) => s.name === 'credit_amount')!.type).toBe('numeric');
    const { dataset } = buildDataset(lt.table, specs, { target: 'bad' });
    expect(dataset.nRows).toBe(1000);
    expect(dataset.target!.reduce((a, b) => a + b, 0)).toBe(300);
    expect(lt.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    // Stratified folds keep the bad share.
    const folds = stratifiedFolds(dataset.target!, 2, new ScoringRng(1));
    const bads = [0, 0];
    for (let i = 0; i < 1000; i++) bads[folds[i]] += dataset.target![i];
    expect(bads).toEqual([150, 150]);
  });
});
