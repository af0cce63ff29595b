import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../src/scoring/data.js';
import { loadArtifact, readRegistry, registerArtifact, resolveModelRef, setAlias, writeArtifact } from '../src/scoring/model-artifact.js';
import { ScoringRng } from '../src/scoring/rng.js';
import { trainModel } from '../src/scoring/train.js';

function data(seed: number): Dataset {
  const rng = new ScoringRng(seed);
  const n = 400;
  const a = Float64Array.from({ length: n }, () => (rng.float() < 0.1 ? NaN : rng.float() * 10));
  const b = Float64Array.from({ length: n }, () => Math.floor(rng.float() * 3));
  const y = Float64Array.from(a, (v, i) => (rng.float() < (Number.isNaN(v) ? 0.6 : 0.05 * v) + 0.1 * b[i] ? 1 : 0));
  return { features: [{ name: 'a', type: 'numeric' }, { name: 'b', type: 'categorical', categories: ['x', 'y', 'z'] }], columns: [a, b], nRows: n, target: y, targetName: 'bad' };
}

describe('model artifacts', () => {
  it('round-trips both model types and refuses an edited model.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-art-'));
    const ds = data(1);
    for (const kind of ['gbdt', 'scorecard'] as const) {
      const out = trainModel(ds, { model: kind, params: kind === 'gbdt' ? { nTrees: 20 } : { minIV: 0 } });
      const meta = writeArtifact(join(dir, kind), out.json, { createdFrom: { fingerprint: 'f'.repeat(64), columns: ['a', 'b', 'bad'], rows: ds.nRows }, features: ds.features, target: 'bad', metrics: out.metrics, trainingParams: out.params });
      expect(meta.version).toMatch(new RegExp(`^${kind}-[0-9a-f]{12}$`));
      const a = loadArtifact(join(dir, kind));
      for (let r = 0; r < ds.nRows; r += 17) {
        const x = ds.columns.map((c) => c[r]);
        expect(a.model.predict(x)).toBe(out.trainPredictions[r]);
      }
    }
    const file = join(dir, 'gbdt', 'model.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"learningRate": 0.03', '"learningRate": 0.04'));
    expect(() => loadArtifact(join(dir, 'gbdt'))).toThrow(/does not match the hash/);
  });

  it('keeps versions and aliases in a registry', () => {
    const models = mkdtempSync(join(tmpdir(), 'rl-reg-'));
    const versions = [1, 2].map((seed) => {
      const out = trainModel(data(seed), { model: 'gbdt', params: { nTrees: 5 } });
      return writeArtifact(join(models, `m${seed}`), out.json, { version: `v${seed}`, createdFrom: {}, features: [], metrics: {}, trainingParams: {} }).version;
    });
    registerArtifact(models, join(models, 'm1'), 'champion');
    registerArtifact(models, join(models, 'm2'), 'challenger');
    expect(readRegistry(models)).toEqual({ versions: { v1: 'm1', v2: 'm2' }, aliases: { challenger: 'v2', champion: 'v1' } });
    expect(resolveModelRef(`${models}@champion`)).toBe(join(models, 'm1'));
    setAlias(models, 'champion', 'v2');
    expect(loadArtifact(`${models}@champion`).metadata.version).toBe(versions[1]);
    expect(loadArtifact(`${models}@v1`).metadata.version).toBe('v1');
    expect(() => setAlias(models, 'champion', 'v9')).toThrow(/no version v9/);
    expect(() => resolveModelRef(`${models}@nobody`)).toThrow(/no alias or version/);
  });
});
