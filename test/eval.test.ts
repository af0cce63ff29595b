import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Alert } from '../src/surveillance/alert.js';
import type { LabelEpisode } from '../src/events/labels.js';
import { evaluate, evaluateRuns, formatEvalTable, readAlertsFile, readLabelsFile } from '../src/surveillance/eval.js';
import { buildProgram } from '../src/cli/main.js';

const M = 60_000;
function alert(id: string, typology: Alert['typology'], accounts: string[], markets: string[], start: number, end: number, detectedAt = start, status: Alert['status'] = 'closed'): Alert {
  return {
    id, typology, detector: 'test', markets, accounts, score: 70, severity: 'high', startTime: start, endTime: end, detectedAt, updatedAt: end,
    evidence: { orderIds: [], tradeIds: [], orderCount: 0, tradeCount: 0, features: [] }, explanation: 'x', status,
  };
}
function label(id: string, typology: LabelEpisode['typology'], accounts: string[], markets: string[], start: number, end: number): LabelEpisode {
  return { id, typology, accounts, markets, startTime: start, endTime: end, orderIds: [], tradeIds: [] };
}

// Hand-made case with known answers:
// wash_trading: labels L1 (acct a, 0–10 min), L2 (b, 20–30), L3 (c, 40–50).
//   A1 matches L1 (a, 2–4 min, detected at 3 min -> delay 3 min)
//   A2 matches L1 too (a, 8–9, detected 8 -> delay 8; L1's delay stays 3)
//   A3 matches L2 by overlapping within the tolerance (b, 30.5–31 min; tol 1 min), detected at 30.5 -> delay 10.5 min
//   A4 is a false positive (d)
//   A5 names account c but at 70 min: outside the window -> false positive; L3 missed
//   => alerts 5, matched 3, precision 0.6; labels 3, detected 2, recall 2/3; F1 = 2·0.6·0.667/(1.267) = 0.631578…
//   => delays [3 min, 10.5 min] -> median 6.75 min
// spoofing (market-level alert without accounts): label S1 (acct x, market BTC, 0–5), alert B1 (no accounts, BTC, 1–2) -> match
//   alert B2 (no accounts, ETH) -> false positive. precision 0.5, recall 1, delay (detected 1.5 min) -> 1.5 min
// fat_finger: a label with no alert -> recall 0, precision null
const alerts = [
  alert('A1', 'wash_trading', ['a'], ['BTC'], 2 * M, 4 * M, 3 * M),
  alert('A2', 'wash_trading', ['a', 'z'], ['BTC'], 8 * M, 9 * M),
  alert('A3', 'wash_trading', ['b'], ['ETH'], 30.5 * M, 31 * M),
  alert('A4', 'wash_trading', ['d'], ['BTC'], 2 * M, 3 * M),
  alert('A5', 'wash_trading', ['c'], ['BTC'], 70 * M, 71 * M),
  alert('B1', 'spoofing', [], ['BTC'], 1 * M, 2 * M, 1.5 * M),
  alert('B2', 'spoofing', [], ['ETH'], 1 * M, 2 * M),
];
const labels = [
  label('L1', 'wash_trading', ['a'], ['BTC'], 0, 10 * M),
  label('L2', 'wash_trading', ['b'], ['ETH'], 20 * M, 30 * M),
  label('L3', 'wash_trading', ['c'], ['BTC'], 40 * M, 50 * M),
  label('S1', 'spoofing', ['x'], ['BTC'], 0, 5 * M),
  label('F1', 'fat_finger', ['q'], ['BTC'], 0, 1),
];

describe('eval', () => {
  it('computes per-typology precision, recall, F1 and median delay on a hand-made set', () => {
    const r = evaluate(alerts, labels, { toleranceMs: M });
    const wash = r.rows.find((x) => x.typology === 'wash_trading')!;
    expect(wash).toMatchObject({ alerts: 5, labels: 3, matchedAlerts: 3, detectedLabels: 2, precision: 0.6, medianDelayMs: 6.75 * M });
    expect(wash.recall).toBeCloseTo(2 / 3, 12);
    expect(wash.f1).toBeCloseTo((2 * 0.6 * (2 / 3)) / (0.6 + 2 / 3), 12);
    const spoof = r.rows.find((x) => x.typology === 'spoofing')!;
    expect(spoof).toMatchObject({ alerts: 2, labels: 1, matchedAlerts: 1, detectedLabels: 1, precision: 0.5, recall: 1, medianDelayMs: 1.5 * M });
    expect(spoof.f1).toBeCloseTo(2 / 3, 12);
    const fat = r.rows.find((x) => x.typology === 'fat_finger')!;
    expect(fat).toMatchObject({ alerts: 0, labels: 1, precision: null, recall: 0, f1: null, medianDelayMs: null });
    // rows follow the typology order of labels.ts
    expect(r.rows.map((x) => x.typology)).toEqual(['spoofing', 'wash_trading', 'fat_finger']);
    expect(r.total).toMatchObject({ alerts: 7, labels: 5, matchedAlerts: 4, detectedLabels: 3, precision: 4 / 7, recall: 3 / 5, medianDelayMs: 3 * M });
    expect(formatEvalTable(r)).toMatch(/wash_trading\s+5\s+3\s+3\s+2\s+0\.600\s+0\.667\s+0\.632\s+405\.0 s/);
  });

  it('measures the delay from a label\'s onset (when the abuse first shows) when it has one', () => {
    // L1 with an onset at 2.5 min: A1 (detected at 3 min) is 0.5 min after it; an alert before the onset counts as 0
    const withOnset = labels.map((l) => (l.id === 'L1' ? { ...l, onsetTime: 2.5 * M } : l));
    const r = evaluate(alerts, withOnset, { toleranceMs: M });
    expect(r.rows.find((x) => x.typology === 'wash_trading')).toMatchObject({ detectedLabels: 2, medianDelayMs: (0.5 * M + 10.5 * M) / 2 });
    const early = evaluate(alerts, labels.map((l) => (l.id === 'L1' ? { ...l, onsetTime: 4 * M } : l)), { toleranceMs: M });
    expect(early.rows.find((x) => x.typology === 'wash_trading')).toMatchObject({ medianDelayMs: (0 + 10.5 * M) / 2 });
  });

  it('pools runs: each run\'s alerts match only its own labels, counts and delays add up', () => {
    const one = evaluate(alerts, labels, { toleranceMs: M });
    // the same set twice, plus a run whose alert would match run 1's L1 (same account and time) but has no labels
    const stray = [alert('Z1', 'wash_trading', ['a'], ['BTC'], 2 * M, 4 * M, 3 * M)];
    const r = evaluateRuns([{ alerts, labels }, { alerts, labels }, { alerts: stray, labels: [] }], { toleranceMs: M });
    const wash = r.rows.find((x) => x.typology === 'wash_trading')!;
    expect(wash).toMatchObject({ alerts: 11, labels: 6, matchedAlerts: 6, detectedLabels: 4, medianDelayMs: 6.75 * M });
    expect(r.total).toMatchObject({ alerts: 2 * one.total.alerts + 1, labels: 2 * one.total.labels, matchedAlerts: 2 * one.total.matchedAlerts, detectedLabels: 2 * one.total.detectedLabels });
  });

  it('without tolerance A3 no longer matches', () => {
    const r = evaluate(alerts, labels, { toleranceMs: 0 });
    expect(r.rows.find((x) => x.typology === 'wash_trading')).toMatchObject({ matchedAlerts: 2, detectedLabels: 1 });
  });

  it('reduces alert transitions to final states and reads files; the CLI prints table and JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rl-eval-'));
    const open = { ...alert('A1', 'wash_trading', ['a'], ['BTC'], 2 * M, 2 * M, 3 * M, 'open'), updatedAt: 3 * M };
    const lines = [open, ...alerts].map((a) => JSON.stringify(a)).join('\n') + '\n';
    await writeFile(join(dir, 'alerts.ndjson.gz'), gzipSync(lines));
    await writeFile(join(dir, 'labels.ndjson'), labels.map((l) => JSON.stringify(l)).join('\n'));
    await writeFile(join(dir, 'labels.json'), JSON.stringify(labels));
    const read = await readAlertsFile(join(dir, 'alerts.ndjson.gz'));
    expect(read).toHaveLength(7);
    expect(read.find((a) => a.id === 'A1')!.status).toBe('closed');
    expect(await readLabelsFile(join(dir, 'labels.json'))).toEqual(await readLabelsFile(join(dir, 'labels.ndjson')));
    await writeFile(join(dir, 'bad.ndjson'), '{"id": 1}\n');
    await expect(readAlertsFile(join(dir, 'bad.ndjson'))).rejects.toThrow(/bad.ndjson:1: not an alert/);

    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    try {
      await buildProgram().parseAsync(['node', 'riskloop', 'eval', '--alerts', join(dir, 'alerts.ndjson.gz'), '--labels', join(dir, 'labels.ndjson'), '--tolerance', String(M)]);
      await buildProgram().parseAsync(['node', 'riskloop', 'eval', '--alerts', join(dir, 'alerts.ndjson.gz'), '--labels', join(dir, 'labels.ndjson'), '--tolerance', String(M), '--json']);
    } finally {
      process.stdout.write = write;
    }
    expect(out[0]).toMatch(/^typology\s+alerts\s+labels/);
    expect(out[0]).toMatch(/total\s+7\s+5\s+4\s+3/);
    // two runs pooled: every count doubles
    const pooled: string[] = [];
    process.stdout.write = ((s: string) => (pooled.push(s), true)) as typeof process.stdout.write;
    try {
      const a = join(dir, 'alerts.ndjson.gz');
      const l = join(dir, 'labels.ndjson');
      await buildProgram().parseAsync(['node', 'riskloop', 'eval', '--alerts', a, '--labels', l, '--alerts', a, '--labels', l, '--tolerance', String(M)]);
    } finally {
      process.stdout.write = write;
    }
    expect(pooled[0]).toMatch(/total\s+14\s+10\s+8\s+6/);
    await expect(
      buildProgram().exitOverride().parseAsync(['node', 'riskloop', 'eval', '--alerts', join(dir, 'alerts.ndjson.gz'), '--alerts', join(dir, 'alerts.ndjson.gz'), '--labels', join(dir, 'labels.ndjson')]),
    ).rejects.toThrow(/pair up run by run: got 2 --alerts and 1 --labels/);
    expect(JSON.parse(out[1]).total.precision).toBeCloseTo(4 / 7, 12);
  });
});
