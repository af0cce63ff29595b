/**
 * Credit scoring in the demo: a GBDT trained on a separately seeded, labelled simulator population
 * (point-in-time features at 5-minute decision times, account age left out; bad = liquidated or named in an abuse episode
 * within the next 30 minutes), then the product policy re-decides borrowers live whenever a large
 * withdrawal, a liquidation, a collateral price drop or a surveillance alert happens. The demo's own
 * surveillance alerts feed the alert features (alerts_30d, high_alerts_30d) of the accounts they name, and
 * the policy's alert rules change those accounts' quotas and prices, with the alert in the reasons.
 */
import { createHash } from 'node:crypto';
import type { ExchangeEvent } from '../events/schema.js';
import type { Alert, AlertSink } from '../surveillance/alert.js';
import { Decider, type ModelVersion } from '../scoring/decide/decide.js';
import { EXAMPLE_POLICY } from '../scoring/decide/default-policy.js';
import { parsePolicy, type PolicyInput } from '../scoring/decide/policy.js';
import { RescoreOperator, type ScoreChange } from '../scoring/decide/rescore.js';
import { labelledFeatures } from '../scoring/features/training.js';
import { auc } from '../scoring/metrics.js';
import { ScoringModel } from '../scoring/model.js';
import { trainModel } from '../scoring/train.js';
import { Simulation } from '../sim/simulator.js';
import type { DemoStage } from './run.js';
import type { StageOptions } from './stages.js';

/** Small, regularised trees: the labelled population is a few thousand decisions with ~3% bad. */
export const SIM_MODEL_PARAMS = { nTrees: 120, maxLeaves: 4, minDataInLeaf: 40, learningRate: 0.05, lambda: 10, colsample: 0.5 };

export interface SimModel {
  model: ScoringModel;
  version: ModelVersion;
  rows: number;
  bad: number;
  trainAuc: number;
}

/** Trains the borrower model on its own seeded simulation (never the demo's run). */
export function trainSimBorrowerModel(seed: number): SimModel {
  const events: ExchangeEvent[] = [];
  const sim = new Simulation({ seed, duration: '90m', trafficScale: 0.3, population: { retail: 1200, borrowers: 400, savers: 150 } }, (e) => void events.push(e));
  const { episodes } = sim.run();
  const labelled = labelledFeatures(events, { everyMs: 5 * 60_000, horizonMs: 30 * 60_000, episodes }).dataset;
  // Account age is left out: in a 90-minute simulation it only measures when an account was first seen.
  const keep = labelled.features.map((f, i) => (f.name === 'account_age_days' ? -1 : i)).filter((i) => i >= 0);
  const dataset = { ...labelled, features: keep.map((i) => labelled.features[i]), columns: keep.map((i) => labelled.columns[i]) };
  const out = trainModel(dataset, { model: 'gbdt', params: SIM_MODEL_PARAMS, monotone: {} });
  const model = new ScoringModel(out.json);
  const sha = createHash('sha256').update(JSON.stringify(out.json)).digest('hex');
  let bad = 0;
  for (const y of dataset.target!) bad += y;
  return { model, version: { version: `gbdt-${sha.slice(0, 12)}`, alias: 'champion', type: 'gbdt', modelSha256: sha }, rows: dataset.nRows, bad, trainAuc: auc(dataset.target!, out.trainPredictions) };
}

/**
 * The example policy plus one rule for the demo: any surveillance alert naming the account in the last
 * 30 days costs a band on every product (a high or critical one also caps margin and the credit line at 0,
 * as in the example policy).
 */
export const DEMO_POLICY: PolicyInput = {
  ...EXAMPLE_POLICY,
  name: 'example-lending-demo',
  hardRules: [
    ...(EXAMPLE_POLICY.hardRules ?? []),
    { id: 'surveillance_alert', feature: 'alerts_30d', op: '>', value: 0, action: 'downgrade', steps: 1, reason: 'named in a surveillance alert in the last 30 days' },
  ],
};

const clock = (t: number) => new Date(t).toISOString().slice(11, 19) + 'Z';

/** One live line per score change: who, why, probability and the terms that moved, top reasons. */
export function scoreChangeLine(c: ScoreChange): string {
  const moved = c.changed
    .filter((x) => x.field !== 'probability')
    .slice(0, 4)
    .map((x) => `${x.field} ${x.before ?? '–'}→${x.after ?? '–'}`)
    .join(', ');
  const why = c.reasons.slice(0, 2).map((r) => `${r.feature}=${r.value}`).join(', ');
  // Alert-driven changes come from the policy's rules: name the rules that fired, with their values.
  const rules = c.trigger.kind === 'surveillance_alert' ? [...new Set(c.decision.products.flatMap((p) => p.hardRules.filter((r) => r.feature.includes('alerts')).map((r) => `${r.id} (${r.feature}=${r.value})`)))].join(', ') : '';
  return `[${clock(c.ts)}] SCORE ${c.accountId} ${c.trigger.kind}: ${c.trigger.detail}; p(bad) ${c.before.probability.toFixed(4)}→${c.after.probability.toFixed(4)}${moved ? `; ${moved}` : '; terms unchanged'}${rules ? ` — rules: ${rules}` : why ? ` — ${why}` : ''}`;
}

/** Seed of the training population: fixed, so the model is the same whatever the demo's seed. */
export const SIM_MODEL_SEED = 5_150_215;

/** The scoring stage, and the sink through which the demo's surveillance hands it alerts as they open. */
export interface ScoringDemoStage extends DemoStage {
  readonly alerts: AlertSink;
}

export async function scoringStage(opts: StageOptions): Promise<ScoringDemoStage> {
  const trainSeed = SIM_MODEL_SEED;
  const sim = trainSimBorrowerModel(trainSeed);
  const decider = new Decider(sim.model, sim.version, parsePolicy(DEMO_POLICY, 'demo policy'));
  const limit = opts.liveLimit ?? 60;
  let shown = 0;
  const live = opts.live;
  const op = new RescoreOperator({
    decider,
    onChange(c) {
      if (!live || c.changed.length === 0) return;
      if (shown < limit) live(scoreChangeLine(c));
      else if (shown === limit) live('… further score changes are counted in the summary');
      shown++;
    },
  });
  let alertsSeen = 0;
  return {
    name: 'scoring',
    operator: op,
    alerts: {
      onAlert(a: Alert) {
        if (a.status === 'open') alertsSeen++;
        op.onAlert(a);
      },
    },
    report() {
      const byKind: Record<string, number> = {};
      let changed = 0;
      let limitDown = 0;
      let limitUp = 0;
      let lost = 0;
      for (const c of op.changes) {
        byKind[c.trigger.kind] = (byKind[c.trigger.kind] ?? 0) + 1;
        if (c.changed.length) changed++;
        for (const x of c.changed) {
          if (x.field.endsWith('.limit')) {
            if (Number(x.after) < Number(x.before)) limitDown++;
            else limitUp++;
          }
          if (x.field.endsWith('.eligible') && x.before === true && x.after === false) lost++;
        }
      }
      // Everyone holding collateral or debt at the end, decided as of the last event.
      const borrowers = [...op.engine.accountIds()].filter((a) => {
        const s = op.engine.account(a)!;
        return s.loans.size > 0 || [...s.collateral.values()].some((v) => v > 0);
      });
      const bands: Record<string, Record<string, number>> = {};
      for (const a of borrowers.sort()) {
        for (const p of op.decide(a).products) {
          const b = (bands[p.product] ??= {});
          b[p.eligible ? p.band : `${p.band} (ineligible)`] = (b[p.eligible ? p.band : `${p.band} (ineligible)`] ?? 0) + 1;
        }
      }
      const summary = {
        model: { ...sim.version, trainedOn: `simulator seed ${trainSeed}, 90 min, ${sim.rows} decisions, ${sim.bad} bad`, trainAuc: sim.trainAuc },
        triggers: op.triggers,
        surveillanceAlerts: alertsSeen,
        accountsFlagged: new Set(op.changes.filter((c) => c.trigger.kind === 'surveillance_alert').map((c) => c.accountId)).size,
        scoreChangeEvents: op.changes.length,
        withChanges: changed,
        byTrigger: byKind,
        limitsDown: limitDown,
        limitsUp: limitUp,
        productsLost: lost,
        borrowersAtEnd: borrowers.length,
        bandsAtEnd: bands,
      };
      const text = [
        `model ${sim.version.version} (${sim.version.alias}), trained on ${summary.model.trainedOn}; training AUC ${sim.trainAuc.toFixed(3)}`,
        `re-scoring triggers ${op.triggers}: ${Object.entries(byKind).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
        `surveillance alerts fed to scoring ${alertsSeen}, naming ${summary.accountsFlagged} accounts (policy: any alert in 30 days costs a band; a high one caps margin and credit line at 0)`,
        `score-change events ${op.changes.length} (${changed} with changed terms): limits down ${limitDown}, up ${limitUp}, products lost ${lost}`,
        `borrowers at the end ${borrowers.length}; bands: ${Object.entries(bands).map(([p, b]) => `${p} ${Object.entries(b).sort().map(([k, v]) => `${k}:${v}`).join(' ')}`).join('; ')}`,
      ].join('\n');
      return { title: 'Credit scoring: quota and pricing re-decided on withdrawals, liquidations and price drops', text, json: summary };
    },
  };
}
