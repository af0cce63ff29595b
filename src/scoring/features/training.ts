/**
 * A labelled training set from an event history: point-in-time features of the active accounts at
 * regular decision times, labelled by what happened to each account within the horizon after.
 * Features come from the batch join (nothing after the decision time); labels only from after it.
 */
import type { LabelEpisode } from '../../events/labels.js';
import type { Dataset } from '../data.js';
import { FeatureEngine, pointInTimeFeatures, sortInputs, type Decision, type FeatureEngineOptions, type FeatureInput } from './engine.js';

export interface LabelOptions {
  /** Time between decision times (ms). */
  everyMs: number;
  /** A decision is bad when the account is liquidated (or named in an abuse episode) within this (ms). */
  horizonMs: number;
  /** Ground-truth abuse episodes (the simulator's labels); their accounts count as bad from their start. */
  episodes?: readonly LabelEpisode[];
  /** First decision this long after the first event (features need some history). */
  warmupMs?: number;
}

export interface LabelledSet {
  dataset: Dataset;
  decisions: Decision[];
}

const ACTIVE = new Set(['trade', 'position.snapshot', 'loan.borrow', 'loan.repay', 'collateral.changed', 'withdrawal', 'deposit', 'liquidation', 'loan.liquidation', 'login']);

export function labelledFeatures(inputs: readonly FeatureInput[], opts: LabelOptions, engineOpts: FeatureEngineOptions = {}): LabelledSet {
  const sorted = sortInputs(inputs);
  if (!sorted.length) throw new Error('no events to build a training set from');
  const start = sorted[0].ts + (opts.warmupMs ?? opts.everyMs);
  const end = sorted[sorted.length - 1].ts - opts.horizonMs;
  // Bad moments per account: liquidations and abuse episode starts.
  const bad = new Map<string, number[]>();
  const mark = (a: string, t: number) => (bad.get(a) ?? bad.set(a, []).get(a)!).push(t);
  for (const e of sorted) {
    if ((e.type === 'liquidation' && e.accountId) || e.type === 'loan.liquidation') mark(e.accountId!, e.ts);
  }
  for (const ep of opts.episodes ?? []) for (const a of ep.accounts) mark(a, ep.startTime);
  // Decisions: every active account (an account-level event in the last period) at each tick.
  const decisions: Decision[] = [];
  let i = 0;
  for (let t = start + 0.5; t <= end; t += opts.everyMs) {
    const active = new Set<string>();
    for (; i < sorted.length && sorted[i].ts <= t; i++) {
      const e = sorted[i];
      if (e.ts > t - opts.everyMs && ACTIVE.has(e.type)) for (const a of FeatureEngine.touched(e)) active.add(a);
    }
    for (const a of [...active].sort()) decisions.push({ accountId: a, time: t });
  }
  const rows = pointInTimeFeatures(sorted, decisions, engineOpts);
  const names = new FeatureEngine(engineOpts).names;
  const columns = names.map(() => new Float64Array(rows.length));
  const target = new Float64Array(rows.length);
  rows.forEach((r, k) => {
    for (let f = 0; f < names.length; f++) columns[f][k] = r.values[f];
    target[k] = (bad.get(r.accountId) ?? []).some((t) => t > r.time && t <= r.time + opts.horizonMs) ? 1 : 0;
  });
  return { dataset: { features: names.map((name) => ({ name, type: 'numeric' as const })), columns, nRows: rows.length, target, targetName: 'bad' }, decisions };
}
