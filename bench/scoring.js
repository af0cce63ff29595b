// Credit scoring: GBDT training time against XGBoost (python3-xgboost, tree_method=hist, nthread=1) on the
// same data with the same trees and depth, AUC of both on the same split, and in-process decision latency.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { buildDataset, germanFeatureSpecs, loadTable, subset, stratifiedFolds } from '../dist/scoring/data.js';
import { trainGbdt } from '../dist/scoring/gbdt/train.js';
import { auc } from '../dist/scoring/metrics.js';
import { ScoringModel } from '../dist/scoring/model.js';
import { ScoringRng } from '../dist/scoring/rng.js';
import { trainModel } from '../dist/scoring/train.js';
import { Decider } from '../dist/scoring/decide/decide.js';
import { parsePolicy } from '../dist/scoring/decide/policy.js';
import { fmt, percentile, table } from './util.js';

const GERMAN = fileURLToPath(new URL('../../shared/data/credit/german.data', import.meta.url));
const PY = '/usr/bin/python3';

// Trains with XGBoost on the CSV (last column = label) and reports the best CPU time of `reps` runs after `warm`
// untimed ones, as for riskloop (time.process_time around xgb.train, which includes XGBoost's quantile binning),
// and test predictions.
const XGB_SCRIPT = `
import sys, json, time
import numpy as np, xgboost as xgb
train, test, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def load(p):
    a = np.genfromtxt(p, delimiter=',', skip_header=1, missing_values='', filling_values=np.nan)
    return a[:, :-1], a[:, -1]
X, y = load(train)
params = {'tree_method': 'hist', 'nthread': 1, 'max_depth': cfg['depth'], 'eta': cfg['eta'], 'objective': 'binary:logistic',
          'max_bin': 255, 'lambda': 1, 'min_child_weight': 1, 'subsample': 1, 'colsample_bytree': 1}
best = 1e9
for _ in range(cfg['warm']):
    xgb.train(params, xgb.DMatrix(X, label=y, missing=np.nan), cfg['trees'])
for _ in range(cfg['reps']):
    d = xgb.DMatrix(X, label=y, missing=np.nan)
    t = time.process_time()
    b = xgb.train(params, d, cfg['trees'])
    best = min(best, time.process_time() - t)
out = {'seconds': best, 'version': xgb.__version__}
if test != '-':
    Xt, yt = load(test)
    dt = xgb.DMatrix(Xt, missing=np.nan)
    out['pred'] = [float(v) for v in b.predict(dt)]
    # XGBoost's own defaults (100 rounds, depth 6, eta 0.3), for the defaults-against-defaults row.
    bd = xgb.train({'tree_method': 'hist', 'nthread': 1, 'objective': 'binary:logistic'}, xgb.DMatrix(X, label=y, missing=np.nan), 100)
    out['predDefault'] = [float(v) for v in bd.predict(dt)]
print(json.dumps(out))
`;

// 5×2 CV peers: XGBoost with its defaults and with riskloop's small-data defaults, and sklearn's
// HistGradientBoostingClassifier (LightGBM-style; python3-lightgbm is not packaged by Debian) when installed.
const PEERS_SCRIPT = `
import sys, json
import numpy as np, xgboost as xgb
folds = json.loads(sys.argv[1])
def load(p):
    a = np.genfromtxt(p, delimiter=',', skip_header=1, missing_values='', filling_values=np.nan)
    return a[:, :-1], a[:, -1]
try:
    from sklearn.ensemble import HistGradientBoostingClassifier as HGB
except Exception:
    HGB = None
out = []
for tr, te in folds:
    X, y = load(tr); Xt, yt = load(te)
    r = {}
    d = xgb.DMatrix(X, label=y, missing=np.nan); dt = xgb.DMatrix(Xt, missing=np.nan)
    r['xgbDefault'] = [float(v) for v in xgb.train({'tree_method': 'hist', 'nthread': 1, 'objective': 'binary:logistic'}, d, 100).predict(dt)]
    small = {'tree_method': 'hist', 'nthread': 1, 'objective': 'binary:logistic', 'max_depth': 4, 'eta': 0.03, 'lambda': 20, 'subsample': 0.8, 'colsample_bytree': 0.6, 'min_child_weight': 1, 'seed': 7}
    r['xgbSmall'] = [float(v) for v in xgb.train(small, d, 400).predict(dt)]
    r['xgbSmallOld'] = [float(v) for v in xgb.train({**small, 'lambda': 5}, d, 300).predict(dt)]
    if HGB is not None:
        r['hgb'] = [float(v) for v in HGB(random_state=7).fit(X, y).predict_proba(Xt)[:, 1]]
    out.append(r)
print(json.dumps(out))
`;

function hasXgboost() {
  try {
    execFileSync(PY, ['-c', 'import xgboost'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function toCsv(ds, file) {
  const lines = [[...ds.features.map((f) => f.name), 'y'].join(',')];
  for (let r = 0; r < ds.nRows; r++) {
    lines.push([...ds.columns.map((c) => (Number.isNaN(c[r]) ? '' : String(c[r]))), String(ds.target[r])].join(','));
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

/** The same data for both: categorical attributes as their integer codes (XGBoost 1.7 has no native categoricals by default). */
function numeric(ds) {
  return { ...ds, features: ds.features.map((f) => ({ name: f.name, type: 'numeric' })) };
}

/** Best CPU time of `reps` runs after `warm` untimed runs (the JIT compiles the trainer during the first ones). */
function cpuSeconds(fn, reps, warm = 2) {
  let best = Infinity;
  let result;
  for (let i = 0; i < warm; i++) fn();
  for (let i = 0; i < reps; i++) {
    if (globalThis.gc) globalThis.gc();
    const t = process.cpuUsage();
    result = fn();
    const u = process.cpuUsage(t);
    best = Math.min(best, (u.user + u.system) / 1e6);
  }
  return { seconds: best, result };
}

function synthetic(n, nf, seed) {
  const rng = new ScoringRng(seed);
  const norm = () => {
    let u = 0;
    for (let i = 0; i < 12; i++) u += rng.float();
    return u - 6;
  };
  const columns = Array.from({ length: nf }, () => new Float64Array(n));
  const target = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < nf; f++) columns[f][r] = rng.float() < 0.05 ? NaN : norm();
    const x = (f) => (Number.isNaN(columns[f][r]) ? 0 : columns[f][r]);
    const m = x(0) + x(1) * x(2) - 0.5 * x(3) * x(3) + 0.5;
    target[r] = rng.float() < 1 / (1 + Math.exp(-m)) ? 1 : 0;
  }
  return { features: columns.map((_, f) => ({ name: `x${f}`, type: 'numeric' })), columns, nRows: n, target };
}

export const scoringSection = {
  id: 'scoring',
  title: 'Credit scoring: GBDT training time and AUC against XGBoost, decision latency',
  async run() {
    const out = [];
    const lt = loadTable(GERMAN);
    const german = buildDataset(lt.table, germanFeatureSpecs(lt.table), { target: 'bad' }).dataset;
    const folds = stratifiedFolds(german.target, 10, new ScoringRng(2024));
    const trIdx = [];
    const teIdx = [];
    for (let i = 0; i < german.nRows; i++) (folds[i] < 3 ? teIdx : trIdx).push(i);
    const gTrain = numeric(subset(german, trIdx));
    const gTest = numeric(subset(german, teIdx));
    const xgb = hasXgboost();
    const dir = mkdtempSync(join(tmpdir(), 'rl-bench-scoring-'));
    const rows = [];
    const aucRows = [];
    const cases = [
      { name: 'German credit (700 train rows × 20)', train: gTrain, test: gTest, trees: 300, depth: 6, eta: 0.05, reps: 7 },
      { name: 'synthetic, 5% missing (100,000 × 20)', train: synthetic(100_000, 20, 1), test: synthetic(20_000, 20, 2), trees: 100, depth: 6, eta: 0.1, reps: 3, warm: 1 },
    ];
    try {
      for (const c of cases) {
        process.stderr.write(`bench: scoring: ${c.name}\n`);
        const params = { nTrees: c.trees, maxDepth: c.depth, maxLeaves: 2 ** c.depth, learningRate: c.eta, lambda: 1, minChildWeight: 1, minDataInLeaf: 1, minSplitGain: 0, subsample: 1, colsample: 1, maxBins: 255 };
        const ours = cpuSeconds(() => trainGbdt(c.train, params).model, c.reps, c.warm ?? 2);
        const ourAuc = auc(c.test.target, ours.result.predictColumns(c.test.columns, c.test.nRows));
        let x = null;
        if (xgb) {
          toCsv(c.train, join(dir, 'train.csv'));
          toCsv(c.test, join(dir, 'test.csv'));
          const res = execFileSync(PY, ['-c', XGB_SCRIPT, join(dir, 'train.csv'), join(dir, 'test.csv'), JSON.stringify({ trees: c.trees, depth: c.depth, eta: c.eta, reps: c.reps, warm: c.warm ?? 2 })], { maxBuffer: 1 << 28 });
          x = JSON.parse(res.toString());
          x.auc = auc(c.test.target, x.pred);
        }
        rows.push([c.name, `${c.trees} trees, depth ${c.depth}`, `${fmt(ours.seconds * 1000)} ms`, x ? `${fmt(x.seconds * 1000)} ms` : 'n/a', x ? `${(ours.seconds / x.seconds).toFixed(2)}×` : 'n/a']);
        const diff = (a, b) => (a - b >= 0 ? '+' : '') + (a - b).toFixed(4);
        // The same training with other seeds (the seed drives the stochastic rounding of gradients): how much of an AUC
        // difference is the trees' sensitivity to any perturbation rather than a loss of accuracy.
        const others = [1, 2].map((seed) => auc(c.test.target, trainGbdt(c.train, { ...params, seed }).model.predictColumns(c.test.columns, c.test.nRows)).toFixed(4));
        aucRows.push([c.name, `same: ${c.trees} trees, depth ${c.depth}, η ${c.eta}`, `${ourAuc.toFixed(4)} (seeds 1, 2: ${others.join(', ')})`, x ? x.auc.toFixed(4) : 'n/a', x ? diff(ourAuc, x.auc) : 'n/a']);
        const ourDefault = trainGbdt(c.train, {}).model;
        const ourDefAuc = auc(c.test.target, ourDefault.predictColumns(c.test.columns, c.test.nRows));
        const xDefAuc = x ? auc(c.test.target, x.predDefault) : NaN;
        aucRows.push([c.name, 'each its own defaults', ourDefAuc.toFixed(4), x ? xDefAuc.toFixed(4) : 'n/a', x ? diff(ourDefAuc, xDefAuc) : 'n/a']);
        if (x) out.xgbVersion = x.version;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // AUC against the peers on the same 5×2 CV splits of German credit (each riskloop model with its defaults).
    const cvRows = [];
    if (xgb) {
      process.stderr.write('bench: scoring: 5×2 CV AUC against XGBoost and HistGradientBoosting\n');
      const cvDir = mkdtempSync(join(tmpdir(), 'rl-bench-cv-'));
      try {
        const pairs = [];
        const ours = { gbdt: [], scorecard: [] };
        const tests = [];
        for (let rep = 0; rep < 5; rep++) {
          const f = stratifiedFolds(german.target, 2, new ScoringRng(1000 + rep));
          for (let k = 0; k < 2; k++) {
            const tr = [];
            const te = [];
            for (let i = 0; i < german.nRows; i++) (f[i] === k ? te : tr).push(i);
            const dTr = subset(german, tr);
            const dTe = subset(german, te);
            for (const m of ['gbdt', 'scorecard']) ours[m].push(auc(dTe.target, new ScoringModel(trainModel(dTr, { model: m }).json).predictDataset(dTe)));
            const a = join(cvDir, `tr${rep}${k}.csv`);
            const b = join(cvDir, `te${rep}${k}.csv`);
            toCsv(numeric(dTr), a);
            toCsv(numeric(dTe), b);
            pairs.push([a, b]);
            tests.push(dTe.target);
          }
        }
        const peers = JSON.parse(execFileSync(PY, ['-c', PEERS_SCRIPT, JSON.stringify(pairs)], { maxBuffer: 1 << 28 }).toString());
        const mean = (xs) => xs.reduce((x, y) => x + y, 0) / xs.length;
        const sd = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
        const peerAuc = (key) => (peers[0][key] ? peers.map((r, i) => auc(tests[i], r[key])) : null);
        const list = [
          ['riskloop GBDT (defaults)', ours.gbdt],
          ['riskloop scorecard (defaults)', ours.scorecard],
          ['XGBoost hist (its defaults: 100 rounds, depth 6, η 0.3)', peerAuc('xgbDefault')],
          ['XGBoost hist (riskloop\'s small-data settings: 400 rounds, depth 4, η 0.03, λ 20, 0.8/0.6 sampling)', peerAuc('xgbSmall')],
          ['XGBoost hist (riskloop\'s previous small-data settings: 300 rounds, λ 5)', peerAuc('xgbSmallOld')],
          ['sklearn HistGradientBoostingClassifier (defaults; LightGBM-style)', peerAuc('hgb')],
        ];
        const best = Math.max(...list.slice(2).filter(([, a]) => a).map(([, a]) => mean(a)));
        for (const [name, a] of list) cvRows.push([name, a ? `${mean(a).toFixed(4)} ± ${sd(a).toFixed(4)}` : 'n/a (python3-sklearn not installed)', a ? (mean(a) - best >= 0 ? '+' : '') + (mean(a) - best).toFixed(4) : 'n/a']);
      } finally {
        rmSync(cvDir, { recursive: true, force: true });
      }
    }

    // Decision latency: the default GBDT (and the scorecard) trained on German credit, one row at a time.
    const gbdt = new ScoringModel(trainModel(german, { model: 'gbdt' }).json);
    const sc = new ScoringModel(trainModel(german, { model: 'scorecard' }).json);
    const inputs = Array.from({ length: german.nRows }, (_, r) => Float64Array.from(german.columns, (c) => c[r]));
    // Wall time per decision (hrtime) and, for the same call, process CPU time (cpuUsage): a wall-time tail
    // with no matching CPU-time tail is the scheduler (2 shared cores), not the work. Timings go into
    // preallocated arrays and the heap is collected before the timed loop; GC pauses are counted by an observer.
    const ROUNDS = 20;
    const latency = async (fn) => {
      const n = inputs.length * ROUNDS;
      const wall = new Float64Array(n);
      const cpu = new Float64Array(n);
      let sink = 0;
      for (let k = 0; k < 2000; k++) sink += fn(inputs[k % inputs.length]);
      if (globalThis.gc) globalThis.gc();
      const gcs = [];
      const obs = new PerformanceObserver((list) => gcs.push(...list.getEntries().map((e) => e.duration)));
      obs.observe({ entryTypes: ['gc'] });
      let i = 0;
      for (let k = 0; k < ROUNDS; k++) {
        for (const x of inputs) {
          const c = process.cpuUsage();
          const s = performance.now();
          sink += fn(x);
          const e = performance.now();
          const cu = process.cpuUsage(c);
          wall[i] = (e - s) * 1000;
          cpu[i++] = cu.user + cu.system;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
      obs.disconnect();
      wall.sort();
      cpu.sort();
      const q = (a, p) => percentile(a, p);
      return {
        p50: q(wall, 50), p99: q(wall, 99), p999: q(wall, 99.9), max: wall[n - 1],
        cpu99: q(cpu, 99), cpu999: q(cpu, 99.9), n, gcCount: gcs.length, gcMax: gcs.length ? Math.max(...gcs) : 0, gcTotal: gcs.reduce((a, b) => a + b, 0), sink,
      };
    };
    const ens = gbdt.ensemble;
    const lat = [
      ['GBDT: bare loop over the trees (margin only, baseline)', await latency((x) => ens.margin(x))],
      ['GBDT: probability + TreeSHAP reason codes (top 4)', await latency((x) => gbdt.explain(x, 4).probability)],
      ['scorecard: probability', await latency((x) => sc.predict(x))],
      ['scorecard: probability + points + reason codes (top 4)', await latency((x) => sc.explain(x, 4).probability)],
    ];
    // A full product decision: probability, reason codes, band tables for three products, hard rules, limits.
    const band = (limit) => [
      { band: 'A', maxProbability: 0.15, limit: { base: '1000', per: { credit_amount: limit }, max: '20000' }, pricing: { apr: '0.049', ltv: '0.7' } },
      { band: 'B', maxProbability: 0.35, limit: { base: '500', per: { credit_amount: limit / 2 }, max: '10000' }, pricing: { apr: '0.089', ltv: '0.5' } },
      { band: 'C', maxProbability: 1, eligible: false },
    ];
    const policy = parsePolicy({
      name: 'bench', version: '1',
      products: [{ id: 'loan', bands: band(1.5) }, { id: 'card', bands: band(0.5) }, { id: 'margin', bands: band(1) }],
      hardRules: [
        { id: 'minor', feature: 'age', op: '<', value: 21, action: 'deny', reason: 'age' },
        { id: 'long', feature: 'duration_months', op: '>', value: 36, action: 'cap', capLimit: '2500', reason: 'duration' },
        { id: 'credits', feature: 'existing_credits', op: '>=', value: 3, action: 'downgrade', reason: 'credits' },
      ],
    });
    const decider = new Decider(gbdt, { version: 'bench', type: 'gbdt', modelSha256: '-' }, policy);
    const col = new Map(german.features.map((f, i) => [f.name, i]));
    lat.push(['GBDT: full product decision (reasons + 3 products × band table + 3 hard rules)', await latency((x) => decider.decide('a', x, (n) => (col.has(n) ? x[col.get(n)] : NaN)).probability)]);
    const us = (v) => `${v.toFixed(1)} µs`;
    const latRows = lat.map(([name, l]) => [name, us(l.p50), us(l.p99), us(l.p999), `${l.max.toFixed(0)} µs`, `${l.cpu99.toFixed(0)} µs`, `${l.cpu999.toFixed(0)} µs`, `${l.gcCount}: ${l.gcTotal.toFixed(1)} ms in all, longest ${l.gcMax.toFixed(2)} ms`]);

    return [
      xgb
        ? `XGBoost ${out.xgbVersion} from Debian's python3-xgboost, \`tree_method=hist\`, \`nthread=1\`, \`max_bin=255\`, \`lambda=1\`, \`min_child_weight=1\`; riskloop with \`maxDepth\` = depth, \`maxLeaves\` = 2^depth, the same learning rate, L2 and min child weight, every row and feature. Times are CPU seconds of the training call (binning included on both sides; interpreter start-up excluded, and the same number of untimed warm-up runs on both sides: riskloop's JIT, XGBoost's first-call set-up), best of the same number of runs on both sides, measured one after the other in this run. riskloop sums quantised gradients in its histograms (as LightGBM 4's quantised training) and computes leaf outputs from the exact ones. Categorical attributes are given to both as integer codes.`
        : 'python3-xgboost is not installed (`apt-get install python3-xgboost`): XGBoost columns are n/a.',
      '',
      table(['data', 'model', 'riskloop GBDT', 'XGBoost hist', 'time ratio (riskloop / XGBoost)'], rows),
      '',
      'Test AUC on the same split (German credit: a seeded stratified 70/30 split; synthetic: a separate 20,000-row sample):',
      '',
      table(['data', 'parameters', 'riskloop AUC', 'XGBoost AUC', 'difference'], aucRows),
      '',
      '5×2-fold stratified CV on German credit (the same seeded splits for every model; peers get categorical attributes as integer codes, riskloop its native categorical splits). Target: riskloop\'s AUC at least the best peer\'s within 0.005.',
      '',
      cvRows.length ? table(['model', 'AUC (mean ± sd of 10 test folds)', 'against the best peer'], cvRows) : 'n/a (python3-xgboost is not installed)',
      '',
      `Decision latency, in process, one row at a time over the ${fmt(german.nRows)} German credit applicants ×${ROUNDS} (${fmt(german.nRows * ROUNDS)} decisions per path after 2,000 warm-up calls and a gc(); the default GBDT: ${ens.trees.length} trees of ≤ 8 leaves; the scorecard: ${sc.scorecard.j.model.length} features). Wall-time percentiles, then the same calls' process CPU time (\`process.cpuUsage\`, µs resolution): a wall-time tail without a CPU-time tail is time the call spent descheduled on the shared cores, not work. GC pauses are those V8 reported during the timed loop (the timing itself allocates a little: \`process.cpuUsage\` returns an object). Target: p99 ≤ 1 ms.`,
      '',
      table(['path', 'p50', 'p99', 'p99.9', 'max', 'CPU p99', 'CPU p99.9', 'GC pauses'], latRows),
    ].join('\n');
  },
};
