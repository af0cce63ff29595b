import { formatHistory } from '../policy/audit.js';
import { backtestPolicy, candidateBeatsBaseline, type BacktestReport } from '../policy/backtest.js';
import { AlertScorer, alertKey } from '../policy/evaluation.js';
import { EventLabeler } from '../policy/labels.js';
import { mineRules, policyWithRules } from '../policy/mine.js';
import { PolicyRegistry } from '../policy/registry.js';
import { runShadow } from '../policy/shadow.js';
import { tuneThresholds } from '../policy/tune.js';
import type { ExchangeEvent } from '../events/schema.js';
import { compilePolicy, type Decision, type PolicyDoc } from '../rules/index.js';
import type { SimConfigInput } from '../sim/config.js';
import { openStore } from '../store/index.js';
import type { DemoStage } from './run.js';

/**
 * Rules and policies in the demo: the live policy decides on every event of the simulated exchange
 * (its decisions print as they happen); then the closed loop runs on lab runs of the same exchange
 * (short simulator runs seeded from the demo's seed, so learning and judging use different data):
 * mine rules for the typology the live policy misses, tune them under an alert budget, store the
 * candidate as a draft, backtest it against the active version, shadow it, approve (a second
 * person) and promote it, measure the catch rate on a fresh seed, roll back, and print the audit
 * trail. Everything runs in an in-memory store.
 */
export interface PolicyStageOptions {
  live?: (line: string) => void;
  liveLimit?: number;
  /** Typology the live policy misses and the loop learns (default quote_stuffing). */
  typology?: string;
  /** Lab run length (default 10m; 5m when the demo itself is shorter than 10m). */
  labDuration?: string;
  /** Alert budget for tuning, alerts/day (default 1000: a 10-minute lab run extrapolates each alert to 144 a day). */
  capacityPerDay?: number;
}

export const DEMO_POLICY: PolicyDoc = {
  name: 'exchange',
  description: 'Live policy: money movement and fat fingers; nothing on order-flow abuse',
  rules: `rule big_withdrawal "Large withdrawal"
  when type == "withdrawal" and amount > 50000
  then hold score 80 tags aml

rule huge_order "Very large order"
  when type == "order.placed" and notional > 2000000
  then review score 40 tags fat_finger
`,
};

const clock = (t: number) => new Date(t).toISOString().slice(11, 19) + 'Z';
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

function labConfig(seed: number, typology: string, duration: string): SimConfigInput {
  return {
    seed,
    duration,
    trafficScale: 0.3,
    population: { retail: 300, momentum: 5, whales: 2, algos: 6, borrowers: 10, savers: 20, signupsPerHour: 5 },
    abuse: { warmupMs: 60_000, guardMs: 30_000, typologies: { [typology]: { perHour: 30 } } },
  };
}

/** What labelling needs of a decision's event. */
const eventOf = (d: Decision) => ({ id: d.eventId, ts: d.ts, type: d.type, ...(d.accounts[0] !== undefined ? { accountId: d.accounts[0] } : {}), ...(d.accounts[1] !== undefined ? { makerAccountId: d.accounts[1] } : {}) }) as unknown as ExchangeEvent;

export function policyStage(opts: PolicyStageOptions = {}): DemoStage {
  const typology = opts.typology ?? 'quote_stuffing';
  const capacity = opts.capacityPerDay ?? 1000;
  const decisions: Decision[] = [];
  const limit = opts.liveLimit ?? 20;
  let shown = 0;
  let first: number | null = null;
  let last: number | null = null;
  const engine = compilePolicy(DEMO_POLICY).createEngine({
    version: 1,
    onDecision(d) {
      decisions.push(d);
      if (!opts.live) return;
      if (shown < limit) opts.live(`[${clock(d.ts)}] DECISION ${d.outcome.padEnd(6)} ${d.policy} v1 — ${d.explanation}`);
      else if (shown === limit) opts.live('… further decisions are counted in the policy report');
      shown++;
    },
  });
  return {
    name: 'policy',
    operator: {
      onEvent(e) {
        first ??= e.ts;
        last = e.ts;
        engine.onEvent(e);
      },
    },
    async report({ sim, labels }) {
      const out: string[] = [];
      // Short demos get short lab runs (the loop still runs end to end), longer ones 10 minutes.
      const labDuration = opts.labDuration ?? (sim.durationMs >= 600_000 ? '10m' : '5m');
      // The live run: the active policy on the demo's exchange, scored against its ground truth.
      const labeler = new EventLabeler(labels);
      const scorer = new AlertScorer();
      for (const d of decisions) scorer.add(alertKey(d), d.ts, labeler.label(eventOf(d)));
      const live = scorer.scorecard(labeler.groups, (last ?? 0) - (first ?? 0));
      const missed = labeler.groups.filter((g) => g.typology === typology).length;
      out.push(`Live: ${DEMO_POLICY.name} v1 made ${live.decisions} decisions (${Object.entries(engine.counts).filter(([o, n]) => o !== 'allow' && n > 0).map(([o, n]) => `${n} ${o}`).join(', ') || 'none'}), ${live.alerts} alerts; it caught ${live.groupsCaught} of ${live.groups} injected episodes and has no rule for ${typology} (${missed} episodes in this run).`);

      // Deterministic audit timestamps: event time after the run, one second per action.
      let tick = sim.endTime;
      const store = await openStore({ dataDir: 'memory://' });
      try {
        const reg = new PolicyRegistry(store, { clock: () => new Date((tick += 1000)) });
        const seed = sim.seed * 1000;
        const lab = (k: number) => ({ sim: labConfig(seed + k, typology, labDuration) });
        await reg.createVersion({ doc: DEMO_POLICY, author: 'alice', reason: 'the policy in production' });
        await reg.attachBacktest('exchange', 1, { live }, 'alice', 'its record on the demo exchange');
        await reg.startShadow('exchange', 1, 'alice');
        await reg.approve('exchange', 1, 'bob', 'reviewed');
        await reg.promote('exchange', 1, 'alice', 'go live');

        const mined = await mineRules({ input: lab(1), typology, seed: sim.seed });
        out.push('', `Mine (lab run seed ${seed + 1}): ${mined.positives} labelled ${typology} events of ${mined.populationEvents} ${mined.eventTypes.join('/')} events; ${mined.candidates.length} candidate rule(s) after removing near-duplicates:`);
        if (mined.candidates.length === 0) {
          out.push('  none cleared the precision and recall floors; the loop stops here.');
          return { title: 'Rules and policies: the closed loop', text: out.join('\n'), json: { live, mined } };
        }
        for (const c of mined.candidates) out.push(`  ${c.name}: precision ${c.metrics.precision.toFixed(3)}, recall ${c.metrics.recall.toFixed(3)}, coverage ${pct(c.metrics.coverage)}, ${c.metrics.groupsHit}/${c.metrics.groups} episodes`);
        const withMined = policyWithRules(DEMO_POLICY, mined.candidates.map((c) => c.source).join('\n'), `${DEMO_POLICY.description}; plus mined ${typology} rules`);
        const tuned = await tuneThresholds({ policy: withMined, rules: mined.candidates.map((c) => c.name), input: lab(1), typologies: [typology], capacityPerDay: capacity });
        out.push('', `Tune (budget ${capacity} alerts/day):`);
        for (const r of tuned.rules) out.push(`  ${r.rule}: ${r.parameters.filter((p) => p.after !== p.before).map((p) => `${p.name.split(': ')[1]} ${p.before} → ${p.after}`).join('; ') || 'thresholds kept'} (alerts/day ${r.before.alertsPerDay.toFixed(0)} → ${r.after.alertsPerDay.toFixed(0)}, episodes ${r.before.groupsCaught} → ${r.after.groupsCaught})`);
        out.push('', 'Candidate v2:', ...tuned.policy.rules.trimEnd().split('\n').map((l) => '  ' + l));

        await reg.createVersion({ doc: tuned.policy, author: 'miner', reason: `mined and tuned for ${typology}` });
        const bt: BacktestReport = await backtestPolicy({ candidate: tuned.policy, candidateVersion: 2, baseline: DEMO_POLICY, baselineVersion: 1, input: lab(2), typologies: [typology] });
        await reg.attachBacktest('exchange', 2, bt, 'miner');
        out.push('', `Backtest (lab run seed ${seed + 2}): ${bt.summary}`);
        if (bt.diff?.newHitExamples[0]) out.push(`  e.g. ${bt.diff.newHitExamples[0].explanation}`);
        const beats = candidateBeatsBaseline(bt);

        await reg.startShadow('exchange', 2, 'miner', beats ? 'backtest beats v1' : 'backtest for review');
        const sh = await runShadow({ registry: reg, policy: 'exchange', input: lab(3), typologies: [typology] });
        const st = sh.stats[0];
        await reg.attachShadowReport('exchange', 2, st, 'miner');
        out.push('', `Shadow (lab run seed ${seed + 3}): v2 beside v1 on ${st.events} events: ${st.disagree} disagreements (${st.onlyShadow} only v2 acts, ${st.onlyActive} only v1); ${st.recorded} phantom decisions recorded, none acted on; v2 would catch ${st.shadowScore?.groupsCaught ?? '-'} of ${st.shadowScore?.groups ?? '-'} episodes, v1 ${st.activeScore?.groupsCaught ?? '-'}.`);

        const refused = await reg.approve('exchange', 2, 'miner').then(() => null, (e: Error) => e.message);
        await reg.approve('exchange', 2, 'carol', 'backtest and shadow reviewed');
        await reg.promote('exchange', 2, 'miner', `catches ${typology}`);
        out.push('', `Approve: the author may not approve (${refused ?? 'allowed?!'}); carol approves; miner promotes v2.`);

        const fresh = await backtestPolicy({ candidate: tuned.policy, candidateVersion: 2, baseline: DEMO_POLICY, baselineVersion: 1, input: lab(4), typologies: [typology] });
        out.push(`Fresh seed ${seed + 4}: catch rate ${pct(fresh.baseline?.scorecard.recall)} (v1) → ${pct(fresh.candidate.scorecard.recall)} (v2), alert precision ${pct(fresh.candidate.scorecard.precision)}, ${fresh.candidate.scorecard.alertsPerDay.toFixed(0)} alerts/day.`);

        await reg.rollback('exchange', 1, 'carol', 'rollback drill');
        const active = await reg.active('exchange');
        out.push(`Rollback: one step; active is v${active?.version}.`);
        const history = await reg.history('exchange');
        // The trail with one diff (the candidate's creation); each entry also stores its own.
        const shown = history.map((h) => (h.action === 'create' && h.version === 2 ? h : { ...h, diff: null }));
        out.push('', 'Audit trail:', ...formatHistory(shown).split('\n').map((l) => '  ' + l));
        return {
          title: 'Rules and policies: the closed loop (mine → backtest → shadow → approve → promote → rollback)',
          text: out.join('\n'),
          json: {
            live,
            mined: mined.candidates.map((c) => ({ name: c.name, source: c.source, metrics: c.metrics })),
            tuned: tuned.rules.map((r) => ({ rule: r.rule, before: r.before, after: r.after })),
            backtest: { candidate: bt.candidate.scorecard, baseline: bt.baseline?.scorecard, beats },
            shadow: st,
            fresh: { candidate: fresh.candidate.scorecard, baseline: fresh.baseline?.scorecard },
            activeAfterRollback: active?.version ?? null,
            history: history.map((h) => ({ at: h.at.toISOString(), actor: h.actor, action: h.action, version: h.version, reason: h.reason })),
          },
        };
      } finally {
        await store.close();
      }
    },
  };
}
