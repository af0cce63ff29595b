import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildDataset, germanFeatureSpecs, loadTable } from '../src/scoring/data.js';
import { TreeExplainer } from '../src/scoring/gbdt/shap.js';
import { importLightgbmText } from '../src/scoring/import/lightgbm.js';
import { importXgboostJson, parseBaseScore } from '../src/scoring/import/xgboost.js';
import { DATA } from './helpers/cli.js';

const FIX = fileURLToPath(new URL('./scoring-fixtures/', import.meta.url));
const PY = '/usr/bin/python3';

function pythonHas(module: string): boolean {
  try {
    execFileSync(PY, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('LightGBM text models', () => {
  it('scores a real LightGBM model (categorical splits) exactly as LightGBM predicted it', () => {
    // Model and predictions from dmlc/treelite tests/examples/toy_categorical (Apache-2.0): LightGBM's own output.
    const model = importLightgbmText(readFileSync(`${FIX}lightgbm-toy-categorical.txt`, 'utf8'));
    expect(model.trees.length).toBe(30);
    expect(model.objective).toBe('regression');
    const recorded: [number, number, number][] = [
      [0, 1, -20.738507080549652528],
      [2, 4, 1.319734514567587835],
      [1, 1, -10.803203734157792226],
      [1, 2, -10.001096027455963267],
      [2, 3, 0.66693272057683628],
      [0, 0, -21.301163574763471331],
      [1, 3, -9.234014767952478664],
    ];
    for (const [a, b, want] of recorded) expect(Math.abs(model.predict([a, b]) - want)).toBeLessThan(1e-12);
  });

  const hasPython = pythonHas('math');
  if (!hasPython) console.warn('scoring-import: /usr/bin/python3 is missing; the LightGBM reference-evaluator comparison is skipped');

  it.skipIf(!hasPython)('scores a hand-written binary model like an independent reference evaluator', () => {
    const text = readFileSync(`${FIX}lightgbm-binary-handmade.txt`, 'utf8');
    const model = importLightgbmText(text);
    expect(model.sigmoidScale).toBe(0.8);
    const rowsCsv = readFileSync(`${FIX}lightgbm-binary-rows.csv`, 'utf8').trim().split('\n').slice(1);
    const ref = execFileSync(PY, [`${FIX}lgb_reference.py`, `${FIX}lightgbm-binary-handmade.txt`, `${FIX}lightgbm-binary-rows.csv`], { encoding: 'utf8' }).trim().split('\n');
    expect(ref.length).toBe(rowsCsv.length);
    const ex = new TreeExplainer(model);
    rowsCsv.forEach((line, i) => {
      const x = line.split(',').map((v) => (v === '' || v === 'NaN' ? NaN : Number(v)));
      const [raw, prob] = ref[i].split(',').map(Number);
      expect(Math.abs(model.margin(x) - raw)).toBeLessThan(1e-12);
      expect(Math.abs(model.predict(x) - prob)).toBeLessThan(1e-12);
      const s = ex.explain(x);
      expect(s.margin).toBeCloseTo(raw, 12);
    });
  });

  it('refuses what it cannot score', () => {
    const text = readFileSync(`${FIX}lightgbm-binary-handmade.txt`, 'utf8');
    expect(() => importLightgbmText(text.replace('num_class=1', 'num_class=3'))).toThrow(/multi-class/);
    expect(() => importLightgbmText(text.replace('objective=binary sigmoid:0.8', 'objective=lambdarank'))).toThrow(/not supported/);
    expect(() => importLightgbmText(text.replace('leaf_value=0.050000000000000003 ', 'leaf_value='))).toThrow(/leaf values/);
  });
});

describe('XGBoost JSON models', () => {
  it('reads base_score in both string forms', () => {
    expect(parseBaseScore('5E-1')).toBe(0.5);
    expect(parseBaseScore('[5E-1]')).toBe(0.5);
    expect(parseBaseScore('[3.0000001E-1]')).toBeCloseTo(0.3, 7);
    expect(() => parseBaseScore('[1E-1,2E-1]')).toThrow(/single-target/);
  });

  const hasXgb = pythonHas('xgboost');
  if (!hasXgb) console.warn('scoring-import: python3-xgboost is not importable (apt-get install python3-xgboost); the XGBoost comparison is skipped');

  it.skipIf(!hasXgb)('scores identically to xgboost.predict on German credit with missing values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-xgb-'));
    // German credit as a numeric matrix: categorical attributes by code, then ~12% of cells blanked.
    const lt = loadTable(`${DATA}credit/german.data`);
    const { dataset } = buildDataset(lt.table, germanFeatureSpecs(lt.table), { target: 'bad' });
    const names = dataset.features.map((f) => f.name);
    const lines = [[...names, 'bad'].join(',')];
    let seed = 12345;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const rows: number[][] = [];
    for (let r = 0; r < dataset.nRows; r++) {
      const x = dataset.columns.map((c) => (next() < 0.12 ? NaN : c[r]));
      // A fractional column so float32 rounding of thresholds matters.
      x[4] = Number.isNaN(x[4]) ? NaN : x[4] / 7;
      rows.push(x);
      lines.push([...x.map((v) => (Number.isNaN(v) ? '' : String(v))), String(dataset.target![r])].join(','));
    }
    writeFileSync(join(dir, 'data.csv'), lines.join('\n') + '\n');
    for (const base of [undefined, '0.3']) {
      execFileSync(PY, [`${FIX}xgb_train.py`, join(dir, 'data.csv'), dir, ...(base ? [base] : [])], { stdio: 'pipe' });
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const ref = JSON.parse(readFileSync(join(dir, 'pred.json'), 'utf8')) as { prob: number[]; margin: number[] };
      for (const variant of [json, { ...json, learner: { ...json.learner, learner_model_param: { ...json.learner.learner_model_param, base_score: `[${json.learner.learner_model_param.base_score}]` } } }]) {
        const model = importXgboostJson(variant);
        expect(model.features.map((f) => f.name)).toEqual(names);
        let worst = 0;
        rows.forEach((x, r) => {
          worst = Math.max(worst, Math.abs(model.predict(x) - ref.prob[r]));
          expect(Math.abs(model.margin(x) - ref.margin[r])).toBeLessThan(1e-5);
        });
        expect(worst).toBeLessThan(1e-6);
      }
    }
  }, 180_000);
});
