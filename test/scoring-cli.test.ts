import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildDataset, loadTable, parseGermanText } from '../src/scoring/data.js';
import { scoreDistribution } from '../src/scoring/metrics.js';
import { loadArtifact, readRegistry, writeArtifact } from '../src/scoring/model-artifact.js';
import { trainModel } from '../src/scoring/train.js';
import { cli, DATA } from './helpers/cli.js';

const GERMAN = `${DATA}credit/german.data`;
const FIX = fileURLToPath(new URL('./scoring-fixtures/', import.meta.url));

/** German credit as a CSV with a header, rows in a scrambled order, some values blanked in the usual ways. */
function germanCsv(dir: string): { file: string; lines: string[] } {
  const t = parseGermanText(readFileSync(GERMAN, 'utf8'));
  const order = t.rows.map((_, i) => i).sort((a, b) => ((a * 7919) % 1000) - ((b * 7919) % 1000));
  const lines = [t.header.join(',')];
  const blanks = ['', 'NA', '?', 'NaN'];
  order.forEach((i, k) => {
    const row = [...t.rows[i]];
    if (k % 10 === 3) row[1] = blanks[k % 4]; // duration_months
    if (k % 15 === 4) row[0] = blanks[(k + 1) % 4]; // checking_status
    lines.push(row.join(','));
  });
  const file = join(dir, 'german.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, lines };
}

describe('riskloop score (CLI)', () => {
  it('train → predict → eval → explain round trip on German credit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-score-'));
    const { file, lines } = germanCsv(dir);
    let a0!: ReturnType<typeof loadArtifact>;
    for (const kind of ['gbdt', 'scorecard'] as const) {
      const out = join(dir, kind);
      const args = ['score', 'train', '--data', file, '--target', 'bad', '--model', kind, '--out', out, '--register', join(dir, 'models'), '--alias', kind === 'gbdt' ? 'champion' : 'challenger'];
      if (kind === 'gbdt') args.push('--monotone', 'duration_months=+1', '--categorical', 'installment_rate');
      const { stdout } = await cli(args);
      expect(stdout).toContain(`trained ${kind}`);
      const a = loadArtifact(out);
      if (kind === 'gbdt') a0 = a;
      expect(a.metadata.createdFrom.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(a.metadata.createdFrom.columns).toContain('bad');
      // predict: one probability per input row, in input order.
      await cli(['score', 'predict', '--model', out, '--data', file, '--out', join(dir, `${kind}.csv`)]);
      const pred = readFileSync(join(dir, `${kind}.csv`), 'utf8').trim().split('\n');
      expect(pred[0]).toBe('probability');
      expect(pred.length).toBe(lines.length);
      const { dataset } = buildDataset(loadTable(file).table, a.model.features);
      for (const r of [0, 3, 4, 500, 998]) {
        const x = dataset.columns.map((c) => c[r]);
        expect(Number(pred[r + 1])).toBe(a.model.predict(x));
      }
      const { stdout: evalOut } = await cli(['score', 'eval', '--model', out, '--data', file, '--json']);
      const e = JSON.parse(evalOut);
      expect(e.n).toBe(1000);
      expect(e.auc).toBeGreaterThan(0.8);
      expect(e.calibration.length).toBe(10);
      expect(e.psi).toBeLessThan(0.01);
      const { stdout: ex } = await cli(['score', 'explain', '--model', out, '--data', file, '--row', '5', '--top', '3', '--json']);
      const o = JSON.parse(ex);
      expect(o.row).toBe(5);
      expect(o.reasons.length).toBeGreaterThan(0);
      expect(o.reasons.length).toBeLessThanOrEqual(3);
      expect(typeof o.reasons[0].value).toBe('string');
      if (kind === 'gbdt') expect(o.reasons[0].contribution).toBeGreaterThan(0);
      else expect(o.reasons[0].lost).toBeGreaterThan(0);
    }
    // The same training run gives the same artifact (the default version is the model hash).
    const lt = loadTable(file);
    const ds = buildDataset(lt.table, a0.model.features, { target: 'bad' }).dataset;
    const again = trainModel(ds, { model: 'gbdt', monotone: { duration_months: 1 } });
    writeArtifact(join(dir, 'again'), again.json, {
      createdFrom: { fingerprint: lt.fingerprint, file: 'german.csv', columns: lt.table.header, rows: ds.nRows },
      features: ds.features,
      target: 'bad',
      metrics: again.metrics,
      trainingParams: again.params,
      trainingScores: scoreDistribution(again.trainPredictions),
    });
    expect(readFileSync(join(dir, 'again', 'model.json'), 'utf8')).toBe(readFileSync(join(dir, 'gbdt', 'model.json'), 'utf8'));
    expect(readFileSync(join(dir, 'again', 'metadata.json'), 'utf8')).toBe(readFileSync(join(dir, 'gbdt', 'metadata.json'), 'utf8'));
    // Aliases resolve through the registry.
    const reg = readRegistry(join(dir, 'models'));
    expect(reg.aliases.champion).toBe(a0.metadata.version);
    expect(Object.keys(reg.aliases).sort()).toEqual(['challenger', 'champion']);
    const { stdout: viaAlias } = await cli(['score', 'predict', '--model', `${join(dir, 'models')}@champion`, '--data', file]);
    expect(viaAlias).toBe(readFileSync(join(dir, 'gbdt.csv'), 'utf8'));
  }, 180_000);

  it('reads german.data directly and imports a LightGBM model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-score-'));
    const { stdout } = await cli(['score', 'train', '--data', GERMAN, '--format', 'german', '--model', 'scorecard', '--out', join(dir, 'sc'), '--params', '{"pdo":40,"points0":500,"odds0":20}']);
    expect(stdout).toContain('on 1000 rows × 20 features');
    await expect(cli(['score', 'train', '--data', GERMAN, '--model', 'gbdt', '--out', join(dir, 'x'), '--params', '{"nTree":5}'])).rejects.toThrow(/nTree/);
    const { stdout: imp } = await cli(['score', 'import', '--format', 'lightgbm', `${FIX}lightgbm-binary-handmade.txt`, '--out', join(dir, 'lgb')]);
    expect(imp).toContain('3 trees');
    const { stdout: p } = await cli(['score', 'predict', '--model', join(dir, 'lgb'), '--data', `${FIX}lightgbm-binary-rows.csv`]);
    const lines = p.trim().split('\n');
    expect(lines.length).toBe(17);
    expect(Number(lines[1])).toBeCloseTo(0.5285688492261708, 12);
  }, 180_000);

  it('5×2 cross-validation on German credit: both models reach AUC ≥ 0.74', async () => {
    const { stdout } = await cli(['score', 'cv', '--data', GERMAN, '--folds', '5x2', '--json']);
    const r = JSON.parse(stdout);
    const by = Object.fromEntries(r.results.map((m: any) => [m.model, m]));
    expect(by.gbdt.folds.length).toBe(10);
    console.log(`German credit 5×2 CV: scorecard AUC ${by.scorecard.mean.auc.toFixed(3)} KS ${by.scorecard.mean.ks.toFixed(3)} cost ${by.scorecard.mean.cost.toFixed(3)}; GBDT AUC ${by.gbdt.mean.auc.toFixed(3)} KS ${by.gbdt.mean.ks.toFixed(3)} cost ${by.gbdt.mean.cost.toFixed(3)}`);
    expect(by.gbdt.mean.auc).toBeGreaterThanOrEqual(0.74);
    expect(by.scorecard.mean.auc).toBeGreaterThanOrEqual(0.74);
    // Both beat the trivial policies: rejecting everyone costs 0.7 per applicant, accepting everyone 1.5.
    expect(by.gbdt.mean.cost).toBeLessThan(0.65);
    expect(by.scorecard.mean.cost).toBeLessThan(0.65);
  }, 180_000);
});
