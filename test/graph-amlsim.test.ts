import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateRanking } from '../src/graph/metrics.js';
import { flowAnomalyScores, poissonSurprise, type TransferArrays } from '../src/graph/algorithms/flow-anomaly.js';
import { readAmlsim } from '../src/graph/amlsim.js';
import { mulberry32 } from '../src/graph/rng.js';
import { cli, DATA } from './helpers/cli.js';

const ARCHIVE = join(DATA, 'graph', 'amlsim-20K_fanin200.tgz');

describe('ranking metrics', () => {
  it('computes AUC with ties, average precision, top-k and best-F1 exactly', () => {
    const score = [0.9, 0.8, 0.8, 0.5, 0.1];
    const label = [1, 0, 1, 0, 0];
    const e = evaluateRanking(score, label);
    // Pairs (pos, neg): 0.9 beats all 3; 0.8(pos) ties one 0.8(neg), beats 2 → (3 + 2.5) / 6.
    expect(e.auc).toBeCloseTo(5.5 / 6, 12);
    // AP: the tie group {0.8, 0.8} holds 1 positive at precision 2/3 → (1·1 + 1·2/3) / 2.
    expect(e.averagePrecision).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(e.topK).toMatchObject({ k: 2, truePositives: 1, precision: 0.5 });
    expect(e.bestF1).toMatchObject({ flagged: 3, truePositives: 2, threshold: 0.8 });
    expect(e.bestF1.f1).toBeCloseTo(0.8, 12);
  });

  it('Poisson surprise is −log10 of the upper tail', () => {
    expect(poissonSurprise(1, 1)).toBeCloseTo(-Math.log10(1 - Math.exp(-1)), 10);
    expect(poissonSurprise(3, 0.5)).toBeCloseTo(-Math.log10(1 - Math.exp(-0.5) * (1 + 0.5 + 0.125)), 8);
    expect(poissonSurprise(0, 2)).toBe(0);
  });
});

/**
 * A synthetic AMLSim-like world: each account pays its own fixed amount to random counterparties at
 * random steps. Injected: a cycle at ordinary amounts spread over the whole period, a scatter-gather,
 * a structuring pair, and a fan-in of small transfers. None is the shipped fan-in data.
 */
function synthetic(seed: number): { t: TransferArrays; groups: Record<string, number[]> } {
  const rnd = mulberry32(seed);
  const n = 3000;
  const steps = 150;
  const amount = Array.from({ length: n }, () => 100 + rnd() * 500);
  const src: number[] = [];
  const dst: number[] = [];
  const val: number[] = [];
  const tim: number[] = [];
  const add = (a: number, b: number, v: number, t: number) => {
    src.push(a);
    dst.push(b);
    val.push(Math.round(v * 100) / 100);
    tim.push(t);
  };
  for (let i = 0; i < 18_000; i++) {
    const a = Math.floor(rnd() * n);
    let b = Math.floor(rnd() * n);
    if (b === a) b = (b + 1) % n;
    add(a, b, amount[a], 1 + Math.floor(rnd() * steps));
  }
  const groups: Record<string, number[]> = { cycle: [10, 11, 12, 13, 14], scatter: [20, 21, 22, 23, 24], structuring: [30, 31], fanin: [40, 41, 42, 43, 44] };
  // Cycle: 250 passed round five accounts at fixed intervals over the period, 5% lost per hop.
  let v = 250;
  groups.cycle.forEach((a, i) => {
    add(a, groups.cycle[(i + 1) % 5], v, 10 + 30 * i);
    v *= 0.95;
  });
  // Scatter-gather: 20 → {21, 22, 23} → 24, each leg a few steps after the last.
  for (const mid of [21, 22, 23]) {
    add(20, mid, 300, 40);
    add(mid, 24, 290, 43);
  }
  // Structuring: 30 pays 31 five times in one step.
  for (let k = 0; k < 5; k++) add(30, 31, 180 + k, 77);
  // Fan-in of small transfers.
  for (const a of [40, 41, 42, 43]) for (let k = 0; k < 3; k++) add(a, 44, 3 + rnd(), 90);
  return { t: { n, src: Int32Array.from(src), dst: Int32Array.from(dst), value: Float64Array.from(val), time: Float64Array.from(tim) }, groups };
}

describe('flow-anomaly score on injected typologies (not the shipped data)', () => {
  const { t, groups } = synthetic(42);
  const r = flowAnomalyScores(t);
  const rank = (i: number): number => {
    let above = 0;
    for (let j = 0; j < t.n; j++) if (r.score[j] > r.score[i]) above++;
    return above;
  };

  it('finds the typologies through the feature meant for each', () => {
    for (const a of groups.cycle) expect(r.features.roundTrip[a]).toBe(1);
    for (const a of groups.scatter) expect(r.features.multiPath[a]).toBe(1);
    expect(r.repeats[t.src.findIndex((s, i) => s === 30 && t.dst[i] === 31)]).toBe(5);
    for (const a of groups.fanin) expect(r.features.suspiciousIn[a] + r.features.suspiciousOut[a]).toBeGreaterThan(2);
    // Background hits are rare.
    let rt = 0;
    let mp = 0;
    for (let i = 0; i < t.n; i++) {
      rt += r.features.roundTrip[i];
      mp += r.features.multiPath[i];
    }
    expect(rt).toBeLessThan(60);
    expect(mp).toBeLessThan(60);
  });

  it('ranks every injected account in the top 5%', () => {
    const all = Object.values(groups).flat();
    const ranks = all.map(rank);
    expect(Math.max(...ranks)).toBeLessThan(0.05 * t.n);
    const labels = new Uint8Array(t.n);
    for (const a of all) labels[a] = 1;
    const e = evaluateRanking(r.score, labels);
    expect(e.auc).toBeGreaterThan(0.97);
  });

  it('is deterministic', () => {
    const again = flowAnomalyScores(t);
    expect(Buffer.from(again.score.buffer).equals(Buffer.from(r.score.buffer))).toBe(true);
  });
});

describe('AMLSim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-amlsim-'));
  execFileSync('tar', ['xzf', ARCHIVE, '-C', dir]);
  const data = join(dir, '20K_fanin200');

  it('reads the directory format', async () => {
    const d = await readAmlsim(data);
    expect(d.accounts).toHaveLength(20_000);
    expect(d.transfers.src).toHaveLength(118_250);
    expect(d.isFraud.reduce((s, x) => s + x, 0)).toBe(954);
    expect(d.rejected).toEqual([]);
  });

  it('accepts the later AMLSim column names and reports bad rows', async () => {
    const alt = join(dir, 'alt');
    mkdirSync(alt);
    writeFileSync(join(alt, 'accounts.csv'), 'ACCOUNT_ID,CUSTOMER_ID,IS_SAR\n1,c1,true\n2,c2,false\n3,c3,false\n');
    writeFileSync(join(alt, 'transactions.csv'), 'TX_ID,orig_acct,bene_acct,TX_TYPE,base_amt,tran_timestamp,IS_SAR\n1,1,2,T,10.5,2017-01-01T00:00:00Z,True\n2,2,3,T,x,2017-01-02T00:00:00Z,False\n');
    const d = await readAmlsim(alt);
    expect([...d.isFraud]).toEqual([1, 0, 0]);
    expect(d.transfers.time[0]).toBe(Date.parse('2017-01-01T00:00:00Z'));
    expect(d.rejected).toEqual([{ file: join(alt, 'transactions.csv'), line: 3, reason: 'bad value x' }]);
  });

  it('scans through the CLI: nodeid,score for every account, precision/recall/AUC above the measured floor', async () => {
    const out = join(dir, 'scores.csv');
    const { stdout } = await cli(['graph', 'scan', '--format', 'amlsim', data, '--out', out, '--json']);
    const s = JSON.parse(stdout);
    const e = s.evaluation;
    console.log(
      `AMLSim 20K fan-in 200: AUC ${e.auc.toFixed(4)}, AP ${e.averagePrecision.toFixed(4)}, ` +
        `top-${e.topK.k} precision=recall ${e.topK.precision.toFixed(4)}, best F1 ${e.bestF1.f1.toFixed(4)} ` +
        `(precision ${e.bestF1.precision.toFixed(4)}, recall ${e.bestF1.recall.toFixed(4)}, ${e.bestF1.flagged} flagged)`,
    );
    // Measured on this archive: AUC 0.936, AP 0.789, top-k 0.736, best F1 0.800 (P 0.939, R 0.696).
    expect(e.auc).toBeGreaterThan(0.92);
    expect(e.averagePrecision).toBeGreaterThan(0.75);
    expect(e.topK.precision).toBeGreaterThan(0.7);
    expect(e.bestF1.f1).toBeGreaterThan(0.77);
    expect(e.bestF1.precision).toBeGreaterThan(0.9);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('nodeid,score');
    expect(lines).toHaveLength(20_001);
    const ids = new Set(lines.slice(1).map((l) => l.split(',')[0]));
    expect(ids.size).toBe(20_000);
    expect(lines.slice(1).every((l) => Number.isFinite(Number(l.split(',')[1])))).toBe(true);
  });
});
