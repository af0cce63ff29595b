import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { LabelEpisode } from '../src/events/labels.js';
import type { ExchangeEvent } from '../src/events/schema.js';
import { backtestPolicy, candidateBeatsBaseline, EventLabeler, formatBacktest } from '../src/policy/index.js';
import type { PolicyDoc } from '../src/rules/index.js';

const run = promisify(execFile);
const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

/**
 * A hand-made day: `wd(acc, t, amount)` withdrawals. acc-bad withdraws 3 × 20,000 in minute 10–12
 * (episode ep1) and 1 × 60,000 at hour 5 (episode ep2); acc-ok withdraws 15,000 at minute 30 and
 * 70,000 at hour 7 (no episode).
 */
let n = 0;
const wd = (acc: string, ts: number, amount: number): ExchangeEvent => ({ id: `w${++n}`, ts, type: 'withdrawal', accountId: acc, asset: 'USDT', chain: 'TRON', address: 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', amount: String(amount), status: 'completed' }) as ExchangeEvent;
const EVENTS: ExchangeEvent[] = [
  wd('acc-bad', T0 + 10 * MIN, 20_000),
  wd('acc-bad', T0 + 11 * MIN, 20_000),
  wd('acc-bad', T0 + 12 * MIN, 20_000),
  wd('acc-ok', T0 + 30 * MIN, 15_000),
  wd('acc-bad', T0 + 300 * MIN, 60_000),
  wd('acc-ok', T0 + 420 * MIN, 70_000),
  wd('acc-ok', T0 + 1440 * MIN - 1, 10),
];
const LABELS: LabelEpisode[] = [
  { id: 'ep1', typology: 'collateral_abuse', accounts: ['acc-bad'], markets: [], startTime: T0 + 9 * MIN, endTime: T0 + 13 * MIN, orderIds: [], tradeIds: [] },
  { id: 'ep2', typology: 'fake_traffic', accounts: ['acc-bad'], markets: [], startTime: T0 + 299 * MIN, endTime: T0 + 301 * MIN, orderIds: [], tradeIds: [] },
];
const BIG: PolicyDoc = { name: 'payouts', rules: 'rule big "Large withdrawal"\n  when type == "withdrawal" and amount > 50000\n  then hold score 80\n' };
const STRUCTURING: PolicyDoc = {
  name: 'payouts',
  rules: BIG.rules + '\nrule structuring "Several mid-size withdrawals in minutes"\n  when type == "withdrawal" and amount >= 10000 and count(by account over 5m where type == "withdrawal" and amount >= 10000) >= 2\n  then review score 40\n',
};

describe('backtestPolicy', () => {
  it('scores candidate and baseline side by side against labels, with the diff and examples', async () => {
    const r = await backtestPolicy({ candidate: STRUCTURING, candidateVersion: 2, baseline: BIG, baselineVersion: 1, input: { events: EVENTS }, labels: LABELS, analystCapacity: 2 });
    // Baseline: 60,000 (ep2) and 70,000 (no episode) → 2 decisions, 2 alerts, 1 hit, 1 of 2 episodes.
    expect(r.baseline!.scorecard).toMatchObject({ decisions: 2, hitDecisions: 1, alerts: 2, hitAlerts: 1, groups: 2, groupsCaught: 1, precision: 0.5, recall: 0.5 });
    // Candidate adds the 2nd and 3rd 20,000 withdrawals (count ≥ 2 within 5 min): one more alert, ep1 caught.
    expect(r.candidate.scorecard).toMatchObject({ decisions: 4, hitDecisions: 3, alerts: 3, hitAlerts: 2, groupsCaught: 2, recall: 1 });
    expect(r.candidate.scorecard.precision).toBeCloseTo(2 / 3, 12);
    expect(r.candidate.scorecard.f1).toBeCloseTo(0.8, 12);
    expect(r.diff).toMatchObject({ newHits: 1, lostHits: 0, newHitDecisions: 2, lostHitDecisions: 0, newFalseDecisions: 0 });
    expect(r.diff!.newHitExamples[0]).toMatchObject({ eventId: 'w2', account: 'acc-bad', outcome: 'review', rules: ['structuring'], episodes: ['ep1'] });
    expect(r.diff!.newHitExamples[0].explanation).toMatch(/count\(by account over 5m where .*\) = 2 >= 2/);
    expect(candidateBeatsBaseline(r)).toBe(true);
    // Per typology, per rule, per day, analyst cost.
    expect(r.candidate.byTypology).toEqual([
      { typology: 'collateral_abuse', episodes: 1, caught: 1, recall: 1 },
      { typology: 'fake_traffic', episodes: 1, caught: 1, recall: 1 },
    ]);
    expect(r.candidate.byRule).toEqual([
      { rule: 'big', decisions: 2, hits: 1 },
      { rule: 'structuring', decisions: 2, hits: 2 },
    ]);
    expect(r.candidate.perDay).toEqual([{ day: '2024-01-01', decisions: 4, alerts: 3 }]);
    expect(r.input.days).toBeCloseTo((1440 * MIN - 1 - 10 * MIN) / 86_400_000, 12);
    expect(r.candidate.analystDaysPerDay).toBeCloseTo(r.candidate.scorecard.alertsPerDay / 2, 12);
    expect(r.candidate.byOutcome).toMatchObject({ hold: 2, review: 2 });
    expect(formatBacktest(r)).toMatch(/diff: 1 new episode hits, 0 lost/);
  });

  it('is deterministic, and restricts ground truth to the typologies asked for', async () => {
    const a = await backtestPolicy({ candidate: STRUCTURING, baseline: BIG, input: { events: EVENTS }, labels: LABELS });
    const b = await backtestPolicy({ candidate: STRUCTURING, baseline: BIG, input: { events: EVENTS }, labels: LABELS });
    expect(b).toEqual(a);
    const only = await backtestPolicy({ candidate: STRUCTURING, input: { events: EVENTS }, labels: LABELS, typologies: ['fake_traffic'] });
    expect(only.truth).toEqual({ groups: 1, byTypology: { fake_traffic: 1 } });
    expect(only.candidate.scorecard).toMatchObject({ hitDecisions: 1, groupsCaught: 1 });
    expect(only.baseline).toBeUndefined();
  });

  it('takes analysts case dispositions as ground truth', async () => {
    const r = await backtestPolicy({
      candidate: BIG,
      input: { events: EVENTS },
      dispositions: [
        { account: 'acc-ok', disposition: 'confirmed', at: T0 + 420 * MIN },
        { eventId: 'w5', disposition: 'dismissed', at: T0 + 300 * MIN },
      ],
    });
    expect(r.candidate.scorecard).toMatchObject({ decisions: 2, hitDecisions: 1, groups: 1, groupsCaught: 1 });
  });

  it('labels by account and episode window, by order/trade id, and by confirmed event id', () => {
    const l = new EventLabeler(LABELS, [{ eventId: 'w4', disposition: 'confirmed', at: 0 }], { toleranceMs: MIN });
    expect(l.label(EVENTS[0])).toEqual({ positive: true, groups: ['ep1'], typologies: ['collateral_abuse'] });
    expect(l.label(wd('acc-bad', T0 + 14 * MIN, 1)).positive).toBe(true); // within the 1-minute tolerance
    expect(l.label(wd('acc-bad', T0 + 15 * MIN, 1)).positive).toBe(false);
    expect(l.label(EVENTS[3]).groups).toEqual(['case:w4']);
  });
});

describe('riskloop policy backtest (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-backtest-'));
  const events = join(dir, 'events.ndjson');
  const labels = join(dir, 'labels.ndjson');
  writeFileSync(events, EVENTS.map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(labels, LABELS.map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(join(dir, 'big.rules'), BIG.rules);
  writeFileSync(join(dir, 'payouts.json'), JSON.stringify(STRUCTURING));

  it('backtests a policy file against a baseline file and prints JSON', async () => {
    const { stdout } = await run('node', ['bin/riskloop.js', 'policy', 'backtest', join(dir, 'payouts.json'), '--baseline', join(dir, 'big.rules'), '--events', events, '--labels', labels, '--json']);
    const r = JSON.parse(stdout);
    expect(r.candidate.scorecard).toMatchObject({ decisions: 4, groupsCaught: 2 });
    expect(r.baseline.scorecard).toMatchObject({ decisions: 2, groupsCaught: 1 });
    expect(r.diff.newHits).toBe(1);
  });

  it('says what is wrong with bad input', async () => {
    const err = (args: string[]) => run('node', ['bin/riskloop.js', 'policy', 'backtest', ...args]).then(() => null, (e: { code: number; stderr: string }) => e);
    const none = await err([join(dir, 'payouts.json')]);
    expect(none!.code).not.toBe(0);
    expect(none!.stderr).toMatch(/no events: give --events FILE… or --sim-seed N/);
    const missing = await err([join(dir, 'payouts.json'), '--events', join(dir, 'nope.ndjson')]);
    expect(missing!.stderr).toMatch(/no such events file: .*nope\.ndjson/);
    const typ = await err([join(dir, 'payouts.json'), '--events', events, '--labels', labels, '--typology', 'spoofin']);
    expect(typ!.stderr).toMatch(/unknown typology "spoofin"/);
  });
});
