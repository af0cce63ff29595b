import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import type { LabelEpisode } from '../src/events/labels.js';
import type { ExchangeEvent } from '../src/events/schema.js';
import { backtestPolicy, formatTuning, tuneThresholds } from '../src/policy/index.js';
import type { PolicyDoc } from '../src/rules/index.js';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

/**
 * 24 hours; each hour one account per size class withdraws: small (5,000), mid (20,000), large
 * (80,000), each a different account. Episodes: every large withdrawal, and the mid ones in hours
 * 0–3. A budget of 24 alerts/day fits exactly the large ones; 28/day also the four labelled mids
 * only if the threshold could tell them apart (it cannot: all mids share one amount).
 */
function day(): { events: ExchangeEvent[]; labels: LabelEpisode[] } {
  const events: ExchangeEvent[] = [];
  const labels: LabelEpisode[] = [];
  let n = 0;
  for (let h = 0; h < 24; h++) {
    for (const [cls, amount] of [['s', 5_000], ['m', 20_000], ['l', 80_000]] as const) {
      const acc = `${cls}${h}`;
      const ts = T0 + h * HOUR + (cls === 's' ? 1000 : cls === 'm' ? 2000 : 3000);
      events.push({ id: `w${++n}`, ts, type: 'withdrawal', accountId: acc, asset: 'USDT', chain: 'TRON', address: 'TX', amount: String(amount), status: 'completed' } as ExchangeEvent);
      if (cls === 'l' || (cls === 'm' && h < 4)) labels.push({ id: `ep-${acc}`, typology: 'collateral_abuse', accounts: [acc], markets: [], startTime: ts - 1000, endTime: ts + 1000, orderIds: [], tradeIds: [] });
    }
  }
  return { events, labels };
}

const POLICY: PolicyDoc = {
  name: 'payouts',
  rules: `# the threshold is far too low
rule big "Large withdrawal"
  when type == "withdrawal" and amount > 1000
  then hold score 80

rule listed "Listed address"
  when type == "withdrawal" and address in ["bad"]
  then block score 100
`,
};

describe('tuneThresholds', () => {
  it('maximises episodes caught within the alert budget and changes only the number in the text', async () => {
    const { events, labels } = day();
    const t = await tuneThresholds({ policy: POLICY, input: { events }, labels, capacityPerDay: 26 });
    const big = t.rules.find((r) => r.rule === 'big')!;
    // Before: 72 alerts over ~23 h; the budget allows 26/day, which only the 24 large ones fit.
    expect(big.before.alerts).toBe(72);
    expect(big.after.alerts).toBe(24);
    expect(big.after.groupsCaught).toBe(24);
    expect(big.after.alertsPerDay).toBeLessThanOrEqual(26);
    expect(big.feasible).toBe(true);
    const p = big.parameters[0];
    expect(p.before).toBe(1000);
    expect(p.after).toBeGreaterThanOrEqual(20_000);
    expect(p.after).toBeLessThan(80_000);
    expect(t.policy.rules).toBe(POLICY.rules.replace('amount > 1000', `amount > ${p.after}`));
    expect(t.skipped).toEqual([{ rule: 'listed', reason: expect.stringMatching(/no numeric threshold/) }]);
    // Sweeps on both sides of the line: looser values alert more, stricter ones catch less.
    const below = p.sweep.filter((s) => s.side === 'below');
    const above = p.sweep.filter((s) => s.side === 'above');
    expect(below.length).toBeGreaterThan(0);
    expect(above.length).toBeGreaterThan(0);
    for (const s of below) expect(s.scorecard.alerts).toBeGreaterThanOrEqual(24);
    for (const s of above) expect(s.scorecard.groupsCaught).toBeLessThanOrEqual(24);
    expect(p.sweep.filter((s) => s.side === 'chosen')).toHaveLength(1);
    // The tuned policy replays to the figures the tuner reported.
    const bt = await backtestPolicy({ candidate: t.policy, input: { events }, labels });
    expect(bt.candidate.scorecard).toMatchObject({ alerts: big.after.alerts, groupsCaught: big.after.groupsCaught });
    expect(formatTuning(t)).toMatch(/rule big\n {2}before: 28\/28 episodes, 72 alerts/);
  });

  it('with a precision floor instead of a budget, keeps the most recall that meets it', async () => {
    const { events, labels } = day();
    const t = await tuneThresholds({ policy: POLICY, rules: ['big'], input: { events }, labels, minPrecision: 0.3 });
    // Mid and large together: 28 hits of 48 alerts (0.58) catch all 28 episodes.
    expect(t.rules[0].after).toMatchObject({ alerts: 48, groupsCaught: 28 });
    expect(t.rules[0].after.precision!).toBeGreaterThanOrEqual(0.3);
  });

  it('refuses unknown rules and rules that do not compile', async () => {
    const { events, labels } = day();
    await expect(tuneThresholds({ policy: POLICY, rules: ['nope'], input: { events }, labels, capacityPerDay: 5 })).rejects.toThrow(/no rule named "nope"/);
    await expect(tuneThresholds({ policy: { name: 'x', rules: 'rule a when amount >' }, input: { events }, labels, capacityPerDay: 5 })).rejects.toThrow(/does not compile: 1:\d+/);
  });
});

describe('riskloop policy tune (CLI)', () => {
  it('tunes a policy file under a budget and writes the tuned policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-tune-'));
    const { events, labels } = day();
    writeFileSync(join(dir, 'events.ndjson'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    writeFileSync(join(dir, 'labels.ndjson'), labels.map((e) => JSON.stringify(e)).join('\n') + '\n');
    writeFileSync(join(dir, 'payouts.json'), JSON.stringify(POLICY));
    const base = ['policy', 'tune', join(dir, 'payouts.json'), '--events', join(dir, 'events.ndjson'), '--labels', join(dir, 'labels.ndjson')];
    const { stdout } = await cli([...base, '--capacity', '26', '--out', join(dir, 'tuned.json')]);
    expect(stdout).toMatch(/rule big\n {2}before: 28\/28 episodes, 72 alerts/);
    expect(stdout).toMatch(/after: {2}24\/28 episodes, 24 alerts/);
    const tuned = JSON.parse(readFileSync(join(dir, 'tuned.json'), 'utf8'));
    expect(tuned.rules).toMatch(/amount > \d+/);
    expect(tuned.rules).not.toMatch(/amount > 1000\n/);
    const noBudget = await cli(base).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(noBudget!.code).not.toBe(0);
    expect(noBudget!.stderr).toMatch(/give the budget: --capacity/);
  }, 60_000);
});
