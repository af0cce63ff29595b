/**
 * Product decisions from a model and a policy. Every decision records the model version that made it
 * (artifact version, alias, hash), the model's reason codes with the applicant's values, and per
 * product the table row (band) and every hard rule that applied, with the value that triggered it.
 */
import type { FeatureSpec } from '../data.js';
import { resolveModelRef, type Artifact } from '../model-artifact.js';
import type { ModelType, Reason, ScoringModel } from '../model.js';
import type { HardRule, Policy, Pricing } from './policy.js';

export interface ModelVersion {
  version: string;
  /** The alias the model was loaded through (champion, challenger), if any. */
  alias?: string;
  type: ModelType;
  modelSha256: string;
}

export interface AppliedRule {
  id: string;
  action: HardRule['action'];
  feature: string;
  op: HardRule['op'];
  threshold: number;
  /** The value that made it fire (null = missing). */
  value: number | null;
  reason: string;
}

export interface ProductDecision {
  product: string;
  eligible: boolean;
  band: string;
  /** Credit limit / quota in `currency`, a decimal string (cents, rounded down). */
  limit: string;
  currency: string;
  pricing: Pricing;
  /** The table row that applied: the product's band (0-based row) before and after downgrades. */
  table: { row: number; band: string; scoreBand: string; maxProbability: number };
  hardRules: AppliedRule[];
}

export interface Decision {
  subject: string;
  time?: number;
  model: ModelVersion;
  probability: number;
  score?: number;
  /** Model reason codes, most adverse first, with the applicant's values. */
  reasons: Reason[];
  products: ProductDecision[];
}

/** A feature by name: a number, NaN when missing. */
export type Lookup = (name: string) => number;

function fires(r: HardRule, v: number): boolean {
  if (!Number.isFinite(v)) return r.whenMissing;
  switch (r.op) {
    case '>': return v > r.value;
    case '>=': return v >= r.value;
    case '<': return v < r.value;
    case '<=': return v <= r.value;
    case '==': return v === r.value;
    case '!=': return v !== r.value;
  }
}

/** Rounds down to cents and prints without exponent. */
export function money(x: number): string {
  if (!(x > 0)) return '0.00';
  return (Math.floor(x * 100 + 1e-6) / 100).toFixed(2);
}

export function modelVersion(a: Artifact, ref?: string): ModelVersion {
  let alias: string | undefined;
  if (ref !== undefined) {
    const at = ref.lastIndexOf('@');
    const name = at > 0 ? ref.slice(at + 1) : '';
    if (name && name !== a.metadata.version && resolveModelRef(ref) === a.dir) alias = name;
  }
  return { version: a.metadata.version, ...(alias ? { alias } : {}), type: a.model.type, modelSha256: a.metadata.modelSha256 };
}

export class Decider {
  constructor(
    readonly model: ScoringModel,
    readonly version: ModelVersion,
    readonly policy: Policy,
    readonly opts: { topReasons?: number } = {},
  ) {}

  /** The model's input row from named features (categorical features take category indexes). */
  row(lookup: Lookup, out = new Float64Array(this.model.features.length)): Float64Array {
    this.model.features.forEach((f: FeatureSpec, i) => (out[i] = lookup(f.name)));
    return out;
  }

  decide(subject: string, row: ArrayLike<number>, lookup: Lookup, time?: number): Decision {
    const ex = this.model.explain(row, this.opts.topReasons ?? 4);
    const p = ex.probability;
    const products = this.policy.products.map((prod): ProductDecision => {
      let row = prod.bands.findIndex((b) => p <= b.maxProbability);
      if (row < 0) row = prod.bands.length - 1; // NaN probability: the riskiest band
      const scoreBand = prod.bands[row].band;
      const applied: AppliedRule[] = [];
      let denied = false;
      let cap = Infinity;
      for (const r of this.policy.hardRules) {
        if (r.products && !r.products.includes(prod.id)) continue;
        const v = lookup(r.feature);
        if (!fires(r, v)) continue;
        applied.push({ id: r.id, action: r.action, feature: r.feature, op: r.op, threshold: r.value, value: Number.isFinite(v) ? v : null, reason: r.reason });
        if (r.action === 'deny') denied = true;
        else if (r.action === 'cap') cap = Math.min(cap, Number(r.capLimit));
        else row = Math.min(prod.bands.length - 1, row + r.steps);
      }
      const b = prod.bands[row];
      const eligible = b.eligible && !denied;
      let limit = 0;
      if (eligible) {
        limit = Number(b.limit.base);
        for (const [f, k] of Object.entries(b.limit.per)) {
          const v = lookup(f);
          if (v > 0) limit += k * v;
        }
        if (b.limit.max !== undefined) limit = Math.min(limit, Number(b.limit.max));
        limit = Math.min(limit, cap);
      }
      return {
        product: prod.id,
        eligible,
        band: b.band,
        limit: money(limit),
        currency: prod.currency,
        pricing: eligible ? b.pricing : {},
        table: { row, band: b.band, scoreBand, maxProbability: b.maxProbability },
        hardRules: applied,
      };
    });
    return { subject, ...(time !== undefined ? { time } : {}), model: this.version, probability: p, ...(ex.score !== undefined ? { score: ex.score } : {}), reasons: ex.reasons, products };
  }
}
