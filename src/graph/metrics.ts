/**
 * Ranking metrics for a score against binary labels (higher score = more suspicious).
 * Ties are handled exactly: AUC uses mid-ranks; precision/recall curves step over whole tie groups.
 */
export interface OperatingPoint {
  threshold: number;
  flagged: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface RankingEvaluation {
  n: number;
  positives: number;
  /** Area under the ROC curve (Mann–Whitney, ties counted half). */
  auc: number;
  /** Average precision (area under the precision–recall step curve). */
  averagePrecision: number;
  /** Top k = number of positives (precision = recall there, the R-precision). */
  topK: OperatingPoint & { k: number };
  /** The threshold with the best F1 (scores ≥ threshold flagged). */
  bestF1: OperatingPoint;
}

export function evaluateRanking(score: ArrayLike<number>, label: ArrayLike<number>): RankingEvaluation {
  const n = score.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a] || a - b);
  let positives = 0;
  for (let i = 0; i < n; i++) if (label[i]) positives++;
  const negatives = n - positives;
  // Walk tie groups from the top.
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let aucSum = 0;
  let best: OperatingPoint = { threshold: Infinity, flagged: 0, truePositives: 0, precision: 0, recall: 0, f1: 0 };
  for (let i = 0; i < n; ) {
    let j = i;
    let gtp = 0;
    while (j < n && score[order[j]] === score[order[i]]) {
      if (label[order[j]]) gtp++;
      j++;
    }
    const gfp = j - i - gtp;
    // ROC: each positive in the group beats the negatives below and ties half with the group's negatives.
    aucSum += gtp * (negatives - fp - gfp) + 0.5 * gtp * gfp;
    tp += gtp;
    fp += gfp;
    const precision = tp / (tp + fp);
    const recall = positives ? tp / positives : 0;
    ap += gtp > 0 && positives ? precision * (gtp / positives) : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1) best = { threshold: score[order[i]], flagged: tp + fp, truePositives: tp, precision, recall, f1 };
    i = j;
  }
  const k = positives;
  let ktp = 0;
  for (let i = 0; i < k; i++) if (label[order[i]]) ktp++;
  const kp = k ? ktp / k : 0;
  return {
    n,
    positives,
    auc: positives && negatives ? aucSum / (positives * negatives) : NaN,
    averagePrecision: ap,
    topK: { k, threshold: k ? score[order[k - 1]] : Infinity, flagged: k, truePositives: ktp, precision: kp, recall: kp, f1: kp },
    bestF1: best,
  };
}
