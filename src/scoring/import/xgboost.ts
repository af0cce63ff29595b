/**
 * Imports XGBoost models saved as JSON (`Booster.save_model("model.json")`, XGBoost ≥ 1.0).
 *
 * - Trees: left_children/right_children (−1 marks a leaf), split_indices, split_conditions (the
 *   threshold, or the leaf value on leaves), default_left (where missing values go), sum_hessian (cover).
 *   XGBoost goes left when x < threshold, comparing in float32, so inputs are rounded to float32.
 * - base_score: a probability for logistic objectives (the margin starts at its logit), the raw start
 *   for others; read from the string forms "5E-1" and "[5E-1]" (XGBoost ≥ 3).
 * - Objectives: binary:logistic and reg:logistic (probabilities), binary:logitraw (margins),
 *   reg:squarederror / reg:linear (values). gbtree and dart (tree weights applied) boosters.
 * Categorical splits and multi-class models are refused with a clear error.
 */
import { readFileSync } from 'node:fs';
import type { FeatureSpec } from '../data.js';
import { DT_DEFAULT_LEFT, DT_STRICT, Ensemble, MISSING_NAN, type Objective, type TreeJSON } from '../gbdt/tree.js';

/** Parses "5E-1", "[5E-1]", "[5E-1,5E-1]" (one target only) or a number. */
export function parseBaseScore(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') throw new Error(`xgboost: base_score is ${JSON.stringify(v)}`);
  const t = v.trim();
  const inner = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  const parts = inner.split(',').map((x) => x.trim()).filter((x) => x.length);
  if (parts.length !== 1) throw new Error(`xgboost: base_score ${t} has ${parts.length} values; only single-target models are supported`);
  const n = Number(parts[0]);
  if (!Number.isFinite(n)) throw new Error(`xgboost: base_score ${t} is not a number`);
  return n;
}

const num = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number));

export function importXgboostJson(json: any, featureNames?: string[]): Ensemble {
  const learner = json?.learner;
  if (!learner) throw new Error('xgboost: no "learner" object (is this a save_model JSON file?)');
  const objective: string = learner.objective?.name ?? '';
  const mp = learner.learner_model_param ?? {};
  const numClass = num(mp.num_class ?? 0);
  if (numClass > 1) throw new Error(`xgboost: multi-class models (num_class=${numClass}) are not supported`);
  if (num(mp.num_target ?? 1) > 1) throw new Error('xgboost: multi-target models are not supported');
  const baseScore = parseBaseScore(mp.base_score ?? '5E-1');
  let obj: Objective;
  let baseMargin: number;
  if (objective === 'binary:logistic' || objective === 'reg:logistic') {
    obj = 'binary';
    if (!(baseScore > 0 && baseScore < 1)) throw new Error(`xgboost: base_score ${baseScore} is not a probability`);
    baseMargin = Math.log(baseScore / (1 - baseScore));
  } else if (objective === 'binary:logitraw' || objective === 'reg:squarederror' || objective === 'reg:linear') {
    obj = 'regression';
    baseMargin = baseScore;
  } else throw new Error(`xgboost: objective "${objective}" is not supported (binary:logistic, reg:logistic, binary:logitraw, reg:squarederror)`);
  const booster = learner.gradient_booster;
  const isDart = booster?.name === 'dart';
  const model = isDart ? booster.gbtree?.model : booster?.model;
  if (!model?.trees) throw new Error(`xgboost: booster "${booster?.name}" has no trees`);
  const weights: number[] | undefined = isDart ? booster.weight_drop : undefined;
  const nFeatures = num(mp.num_feature);
  const names: string[] = featureNames ?? (learner.feature_names?.length ? learner.feature_names : Array.from({ length: nFeatures }, (_, i) => `f${i}`));
  if (names.length !== nFeatures) throw new Error(`xgboost: ${names.length} feature names for ${nFeatures} features`);
  const types: string[] = learner.feature_types ?? [];
  if (types.includes('c')) throw new Error('xgboost: categorical features are not supported; one-hot or code them as numbers');
  const features: FeatureSpec[] = names.map((name) => ({ name, type: 'numeric' }));
  const trees: TreeJSON[] = model.trees.map((t: any, ti: number) => {
    if ((t.split_type ?? []).some((s: number) => s !== 0)) throw new Error(`xgboost: tree ${ti} has categorical splits, which are not supported`);
    const n = t.left_children.length;
    const w = weights ? weights[ti] : 1;
    const j: TreeJSON = { feature: [], threshold: [], decision: [], left: [], right: [], value: [], cover: [] };
    for (let i = 0; i < n; i++) {
      const leaf = t.left_children[i] === -1;
      j.feature.push(leaf ? -1 : t.split_indices[i]);
      j.left.push(leaf ? -1 : t.left_children[i]);
      j.right.push(leaf ? -1 : t.right_children[i]);
      // XGBoost stores float32: round what JSON printed back to the float32 XGBoost compares against.
      j.threshold.push(leaf ? 0 : Math.fround(t.split_conditions[i]));
      const dl = t.default_left[i] === true || t.default_left[i] === 1 ? DT_DEFAULT_LEFT : 0;
      j.decision.push(leaf ? 0 : DT_STRICT | (MISSING_NAN << 2) | dl);
      j.value.push(leaf ? Math.fround(t.split_conditions[i]) * w : (t.base_weights?.[i] ?? 0) * w);
      j.cover.push(t.sum_hessian?.[i] ?? 1);
    }
    return j;
  });
  return new Ensemble({ source: 'xgboost', objective: obj, baseMargin, sigmoidScale: 1, float32Inputs: true, features, trees });
}

export function importXgboostFile(path: string, featureNames?: string[]): Ensemble {
  const text = readFileSync(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`xgboost: ${path} is not JSON (save the model with a .json name; UBJSON is not supported): ${(err as Error).message}`);
  }
  return importXgboostJson(json, featureNames);
}
