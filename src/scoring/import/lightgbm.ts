/**
 * Imports LightGBM text models (`Booster.save_model("model.txt")`, format v2–v4).
 *
 * Per tree: split_feature, threshold, decision_type, left_child/right_child (a negative child c is the
 * leaf ~c), leaf_value (shrinkage already applied), internal_count/leaf_count (covers for TreeSHAP) and,
 * for categorical splits, cat_boundaries/cat_threshold (uint32 bitsets of the categories that go left).
 * decision_type bits: 1 = categorical, 2 = default left, bits 2–3 = missing type (0 None: NaN reads as
 * 0; 1 Zero: 0 and NaN take the default side; 2 NaN: NaN takes the default side). Numeric splits go left
 * when x ≤ threshold. Categorical splits send NaN and negative codes right (LightGBM ≥ 3).
 * Objectives: binary (sigmoid:k), cross_entropy, regression family. Multi-class, linear trees and
 * random-forest averaging are refused with a clear error.
 */
import { readFileSync } from 'node:fs';
import type { FeatureSpec } from '../data.js';
import { DT_CATEGORICAL, DT_DEFAULT_LEFT, Ensemble, type Objective, type TreeJSON } from '../gbdt/tree.js';

function kv(lines: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf('=');
    if (i > 0) m.set(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  return m;
}

const nums = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split(/\s+/).map(Number));

function parseTree(block: Map<string, string>, index: number, nFeatures: number): TreeJSON {
  const L = Number(block.get('num_leaves'));
  if (!(L >= 1)) throw new Error(`lightgbm: tree ${index} has no num_leaves`);
  if (block.get('is_linear') === '1') throw new Error(`lightgbm: tree ${index} is a linear tree, which is not supported`);
  const leafValue = nums(block.get('leaf_value'));
  if (leafValue.length !== L) throw new Error(`lightgbm: tree ${index} has ${leafValue.length} leaf values for ${L} leaves`);
  const leafCount = nums(block.get('leaf_count'));
  if (L === 1) return { feature: [-1], threshold: [0], decision: [0], left: [-1], right: [-1], value: [leafValue[0]], cover: [leafCount[0] ?? 1] };
  const ni = L - 1;
  const sf = nums(block.get('split_feature'));
  const th = nums(block.get('threshold'));
  const dt = nums(block.get('decision_type'));
  const lc = nums(block.get('left_child'));
  const rc = nums(block.get('right_child'));
  const iv = nums(block.get('internal_value'));
  for (const [name, arr] of [['split_feature', sf], ['threshold', th], ['decision_type', dt], ['left_child', lc], ['right_child', rc]] as const) {
    if (arr.length !== ni) throw new Error(`lightgbm: tree ${index} has ${arr.length} ${name} entries for ${ni} splits`);
  }
  const catBoundaries = nums(block.get('cat_boundaries'));
  const catThreshold = nums(block.get('cat_threshold'));
  // Nodes: internal nodes 0..ni−1 keep their index; leaf k becomes node ni + k.
  const node = (c: number) => (c >= 0 ? c : ni + ~c);
  const j: TreeJSON = { feature: [], threshold: [], decision: [], left: [], right: [], value: [], cover: [], categories: {} };
  for (let i = 0; i < ni; i++) {
    if (sf[i] < 0 || sf[i] >= nFeatures) throw new Error(`lightgbm: tree ${index} splits on feature ${sf[i]} of ${nFeatures}`);
    j.feature.push(sf[i]);
    j.left.push(node(lc[i]));
    j.right.push(node(rc[i]));
    j.value.push(iv[i] ?? 0);
    const d = dt[i] & 0xff;
    if (d & DT_CATEGORICAL) {
      const ci = Math.trunc(th[i]);
      if (!(ci >= 0 && ci + 1 < catBoundaries.length)) throw new Error(`lightgbm: tree ${index} node ${i} points at categorical split ${ci}, which is not in cat_boundaries`);
      const codes: number[] = [];
      for (let w = catBoundaries[ci]; w < catBoundaries[ci + 1]; w++) {
        const word = catThreshold[w] >>> 0;
        for (let b = 0; b < 32; b++) if ((word >>> b) & 1) codes.push((w - catBoundaries[ci]) * 32 + b);
      }
      j.categories![i] = codes;
      j.threshold.push(0);
      // NaN goes right on categorical splits: clear the default-left bit.
      j.decision.push(d & ~DT_DEFAULT_LEFT);
    } else {
      j.threshold.push(th[i]);
      j.decision.push(d & 0x0f);
    }
  }
  for (let k = 0; k < L; k++) {
    j.feature.push(-1);
    j.left.push(-1);
    j.right.push(-1);
    j.threshold.push(0);
    j.decision.push(0);
    j.value.push(leafValue[k]);
  }
  // Covers: leaf counts, summed up the tree (LightGBM's TreeSHAP weights by data counts).
  const cover = new Array<number>(ni + L).fill(0);
  for (let k = 0; k < L; k++) cover[ni + k] = leafCount.length === L ? leafCount[k] : 1;
  const sum = (n: number): number => (n >= ni ? cover[n] : (cover[n] = sum(j.left[n]) + sum(j.right[n])));
  sum(0);
  j.cover = cover;
  if (Object.keys(j.categories!).length === 0) delete j.categories;
  return j;
}

export function importLightgbmText(text: string): Ensemble {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== 'tree') throw new Error('lightgbm: the model text must start with "tree"');
  const firstTree = lines.findIndex((l) => l.startsWith('Tree='));
  const end = lines.findIndex((l) => l.trim() === 'end of trees');
  const header = kv(lines.slice(0, firstTree < 0 ? lines.length : firstTree));
  if (Number(header.get('num_class') ?? 1) !== 1 || Number(header.get('num_tree_per_iteration') ?? 1) !== 1) {
    throw new Error('lightgbm: multi-class models are not supported');
  }
  if (header.has('average_output')) throw new Error('lightgbm: random-forest models (average_output) are not supported');
  const objLine = header.get('objective') ?? 'regression';
  const objName = objLine.split(/\s+/)[0];
  let objective: Objective;
  let sigmoidScale = 1;
  if (objName === 'binary') {
    objective = 'binary';
    const m = /sigmoid:([-+0-9.eE]+)/.exec(objLine);
    if (m) sigmoidScale = Number(m[1]);
  } else if (objName === 'cross_entropy' || objName === 'xentropy') {
    objective = 'binary';
  } else if (['regression', 'regression_l2', 'regression_l1', 'huber', 'fair', 'quantile', 'mape'].includes(objName)) {
    objective = 'regression';
  } else throw new Error(`lightgbm: objective "${objLine}" is not supported (binary, cross_entropy, regression)`);
  const nFeatures = Number(header.get('max_feature_idx')) + 1;
  if (!(nFeatures > 0)) throw new Error('lightgbm: no max_feature_idx in the header');
  const names = (header.get('feature_names') ?? '').split(/\s+/).filter((s) => s.length);
  const featureNames = names.length === nFeatures ? names : Array.from({ length: nFeatures }, (_, i) => `Column_${i}`);
  const trees: TreeJSON[] = [];
  let i = firstTree;
  while (i >= 0 && i < (end < 0 ? lines.length : end)) {
    if (!lines[i].startsWith('Tree=')) {
      i++;
      continue;
    }
    const start = i + 1;
    let k = start;
    while (k < lines.length && lines[k].trim() !== '' && !lines[k].startsWith('Tree=') && lines[k].trim() !== 'end of trees') k++;
    trees.push(parseTree(kv(lines.slice(start, k)), trees.length, nFeatures));
    i = k;
  }
  const sizes = nums(header.get('tree_sizes'));
  if (sizes.length && sizes.length !== trees.length) throw new Error(`lightgbm: tree_sizes lists ${sizes.length} trees, the file has ${trees.length}`);
  // LightGBM's categorical features take integer codes, so every input column is read as a number.
  const features: FeatureSpec[] = featureNames.map((name) => ({ name, type: 'numeric' }));
  return new Ensemble({ source: 'lightgbm', objective, baseMargin: 0, sigmoidScale, float32Inputs: false, features, trees });
}

export function importLightgbmFile(path: string): Ensemble {
  return importLightgbmText(readFileSync(path, 'utf8'));
}
