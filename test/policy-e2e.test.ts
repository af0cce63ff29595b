import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtestPolicy, candidateBeatsBaseline, mineRules, policyWithRules, PolicyLifecycleError, PolicyRegistry, runShadow, tuneThresholds } from '../src/policy/index.js';
import { DEMO_POLICY } from '../src/demo/policy-stage.js';
import type { PolicyDoc } from '../src/rules/index.js';
import type { SimConfigInput } from '../src/sim/config.js';
import { openStore, type Store } from '../src/store/index.js';

/**
 * The closed loop on simulator data: a live policy that misses quote stuffing; rules mined from
 * the labels of one run; tuned under an alert budget; backtested on a second run against the
 * active version; shadowed on a third; approved by a second person and promoted; the catch rate
 * on a fresh fourth seed; rollback; the audit trail. Separate seeds keep learning and judging apart.
 */
const TYPOLOGY = 'quote_stuffing';
const sim = (seed: number, duration = '20m'): SimConfigInput => ({
  seed,
  duration,
  trafficScale: 0.3,
  population: { retail: 300, momentum: 5, whales: 2, algos: 6, borrowers: 10, savers: 20, signupsPerHour: 5 },
  abuse: { warmupMs: 120_000, guardMs: 30_000, typologies: { [TYPOLOGY]: { perHour: 15 } } },
});

// The demo's live policy: money movement and fat fingers, nothing on order-flow abuse.
const BASELINE: PolicyDoc = DEMO_POLICY;

describe('closed loop: mine → backtest → shadow → approve → promote → rollback', () => {
  let store: Store;
  let reg: PolicyRegistry;
  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://' });
    reg = new PolicyRegistry(store);
    // (1) The live policy, v1, through its own lifecycle.
    const v1 = await reg.createVersion({ doc: BASELINE, author: 'alice', reason: 'initial policy' });
    const bt = await backtestPolicy({ candidate: BASELINE, candidateVersion: 1, input: { sim: sim(101, '10m') }, typologies: [TYPOLOGY] });
    await reg.attachBacktest('exchange', v1.version, bt, 'alice');
    await reg.startShadow('exchange', 1, 'alice', 'shadow before go-live');
    await reg.approve('exchange', 1, 'bob', 'reviewed');
    await reg.promote('exchange', 1, 'alice', 'go live');
  }, 600_000);
  afterAll(async () => store?.close());

  it('runs the whole loop with real numbers', async () => {
    const active = (await reg.active('exchange'))!;
    expect(active.version).toBe(1);

    // (2) Mine candidate rules from the labels of seed 102.
    const mined = await mineRules({ input: { sim: sim(102) }, typology: TYPOLOGY, seed: 7 });
    expect(mined.positives).toBeGreaterThan(0);
    expect(mined.candidates.length).toBeGreaterThan(0);
    const best = mined.candidates[0];
    expect(best.metrics.precision).toBeGreaterThanOrEqual(0.8);
    expect(best.metrics.groupsHit).toBeGreaterThanOrEqual(Math.ceil(best.metrics.groups * 0.8));
    expect(best.source).toMatch(/^rule mined_quote_stuffing_1 "Mined for quote_stuffing \(at mining: precision/);
    expect(best.source).toMatch(/count\(by .+ over \d+[smh] where type == "order\.(placed|cancelled|amended)"\) >= \d+/);

    // Tune the mined thresholds under an alert budget on the same (training) run.
    const withMined = policyWithRules(active.doc, mined.candidates.map((c) => c.source).join('\n'), 'Live policy plus mined quote-stuffing rules');
    const tuned = await tuneThresholds({ policy: withMined, rules: mined.candidates.map((c) => c.name), input: { sim: sim(102) }, typologies: [TYPOLOGY], capacityPerDay: 400 });
    for (const r of tuned.rules) expect(r.after.alertsPerDay).toBeLessThanOrEqual(Math.max(400, r.before.alertsPerDay));

    // (3) Backtest on an unseen seed: the candidate beats the active version.
    const v2 = await reg.createVersion({ doc: tuned.policy, author: 'miner', reason: `mined from ${mined.positives} labelled ${TYPOLOGY} events, tuned to 400 alerts/day` });
    expect(v2.version).toBe(2);
    const report = await backtestPolicy({ candidate: tuned.policy, candidateVersion: 2, baseline: active.doc, baselineVersion: 1, input: { sim: sim(103) }, typologies: [TYPOLOGY] });
    expect(report.truth.groups).toBeGreaterThanOrEqual(3);
    expect(report.baseline!.scorecard.groupsCaught).toBe(0);
    expect(report.candidate.scorecard.recall!).toBeGreaterThanOrEqual(0.8);
    expect(report.candidate.scorecard.precision!).toBeGreaterThanOrEqual(0.5);
    expect(candidateBeatsBaseline(report)).toBe(true);
    expect(report.diff!.newHits).toBe(report.candidate.scorecard.groupsCaught);
    expect(report.diff!.newHitExamples[0].explanation).toMatch(/mined_quote_stuffing_\d/);
    await reg.attachBacktest('exchange', 2, report, 'miner');

    // (4) Shadow: phantom decisions recorded beside the live ones, never emitted.
    await reg.startShadow('exchange', 2, 'miner', 'backtest beats v1');
    const emitted: string[] = [];
    const sh = await runShadow({ registry: reg, policy: 'exchange', input: { sim: sim(104, '10m') }, typologies: [TYPOLOGY], onDecision: (d) => emitted.push(`${d.policy}:v${d.version}`) });
    const st = sh.stats[0];
    expect(st.version).toBe(2);
    expect(st.onlyShadow).toBeGreaterThan(0);
    expect(st.recorded).toBeGreaterThan(0);
    expect(emitted.every((x) => x === 'exchange:v1')).toBe(true);
    expect(st.shadowScore!.groupsCaught).toBeGreaterThan(st.activeScore!.groupsCaught);
    const cmp = await reg.shadowComparison('exchange', 2);
    expect(cmp.total).toBe(st.recorded);
    expect(cmp.disagree).toBeGreaterThan(0);
    await reg.attachShadowReport('exchange', 2, st, 'miner');

    // (5) Four eyes: the author cannot approve; a second person does; promote.
    const refused = await reg.approve('exchange', 2, 'miner').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PolicyLifecycleError);
    await reg.approve('exchange', 2, 'carol', 'backtest and shadow reviewed');
    await reg.promote('exchange', 2, 'miner', 'catches quote stuffing');
    const live = (await reg.active('exchange'))!;
    expect(live.version).toBe(2);
    // The catch rate on a fresh seed: the promoted policy against the one it replaced.
    const fresh = await backtestPolicy({ candidate: live.doc, candidateVersion: 2, baseline: (await reg.get('exchange', 1))!.doc, baselineVersion: 1, input: { sim: sim(105) }, typologies: [TYPOLOGY] });
    expect(fresh.candidate.scorecard.recall!).toBeGreaterThan(fresh.baseline!.scorecard.recall ?? 0);
    expect(fresh.candidate.scorecard.recall!).toBeGreaterThanOrEqual(0.75);

    // (6) Roll back in one step.
    await reg.rollback('exchange', 1, 'carol', 'rollback drill');
    expect((await reg.active('exchange'))!.version).toBe(1);
    expect((await reg.get('exchange', 2))!.state).toBe('retired');

    // (7) The audit trail: who did what, in order, with reasons.
    const history = await reg.history('exchange');
    const trail = history.map((h) => `${h.action}:v${h.version}:${h.actor}`);
    for (const step of ['create:v2:miner', 'backtest:v2:miner', 'shadow:v2:miner', 'approve:v2:carol', 'promote:v2:miner', 'rollback:v1:carol']) expect(trail).toContain(step);
    expect(trail.indexOf('promote:v2:miner')).toBeLessThan(trail.indexOf('rollback:v1:carol'));
    expect(history.find((h) => h.action === 'create' && h.version === 2)!.diff).toMatch(/\+.*mined_quote_stuffing_1/);
  }, 900_000);
});
