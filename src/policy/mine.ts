import type { LabelEpisode } from '../events/labels.js';
import type { ExchangeEvent } from '../events/schema.js';
import type { Operator } from '../pipeline/types.js';
import { createFeatureExtractor, checkRules, type PolicyDoc } from '../rules/index.js';
import { Rng } from '../sim/rng.js';
import { streamInput, truthFor, type EventInput, type InputProgress } from './input.js';
import { EventLabeler, type CaseDisposition } from './labels.js';
import { datasetFromRows, type MiningDataset } from './mining/dataset.js';
import { defaultFeatureCatalogue } from './mining/features.js';
import { learnRules, type LearnerOptions, type MinedRule } from './mining/learner.js';
import { metricsSummary, renderRule } from './mining/render.js';

/**
 * Rule mining: from labelled events, learn candidate rules in the rule language. Every event of the
 * input passes through the rule engine's feature extractor (so aggregates see the whole stream);
 * events of the mined types become rows (all positives, a seeded reservoir of negatives, each
 * negative weighted by how many it stands for); the learner returns conjunctions of thresholds;
 * each is rendered as a rule and checked by the compiler.
 */
export interface MineOptions extends LearnerOptions {
  input: EventInput;
  /** Ground truth; a simulator input brings its own when this is absent. */
  labels?: LabelEpisode[];
  dispositions?: CaseDisposition[];
  /** Learn rules for this typology only (the episodes of others are neither positive nor used). */
  typology?: string;
  /** Event types a rule applies to; default: the type holding most positive events. */
  eventTypes?: string[];
  /** Feature expressions; default: the built-in catalogue. */
  features?: string[];
  /** Run surveillance beside and offer alerts(...) features. */
  surveillance?: boolean;
  /** Negatives kept for learning (default 20,000). */
  maxNegatives?: number;
  /** Rule names: `${prefix}_1`, … (default `mined_<typology>`). */
  namePrefix?: string;
  outcome?: 'review' | 'limit' | 'hold' | 'block';
  score?: number;
  onProgress?: (events: number, info?: InputProgress) => void;
}

export interface MinedCandidate extends MinedRule {
  name: string;
  /** The rule in the rule language. */
  source: string;
}

export interface MineResult {
  typology?: string;
  eventTypes: string[];
  features: string[];
  rows: number;
  positives: number;
  negatives: number;
  /** Events of the mined types in the input (negatives are sampled from these). */
  populationEvents: number;
  events: number;
  candidates: MinedCandidate[];
  /** All candidates as one rules source, each with its figures in a comment. */
  source: string;
}

interface Row {
  values: (number | null)[];
  label: boolean;
  weight?: number;
  group?: string;
  type: string;
}

export async function mineRules(opts: MineOptions): Promise<MineResult> {
  const features = opts.features ?? defaultFeatureCatalogue({ alerts: opts.surveillance });
  const exprs: Record<string, string> = {};
  features.forEach((f, i) => (exprs[`f${i}`] = f));
  const extractor = createFeatureExtractor(exprs);
  const names = features.map((_, i) => `f${i}`);
  const maxNeg = opts.maxNegatives ?? 20_000;
  const rng = new Rng(opts.seed ?? 1, 0x72657376);
  const typologies = opts.typology ? [opts.typology] : undefined;
  const labeler = new EventLabeler(await truthFor(opts.input, opts.labels, opts.dispositions), opts.dispositions ?? [], { typologies });

  // Rows are buffered per event type; the mined types are chosen after the pass.
  const positives = new Map<string, Row[]>();
  const reservoir = new Map<string, { rows: Row[]; seen: number }>();
  const onRow = (e: ExchangeEvent, values: Record<string, number | null>) => {
    const label = labeler.label(e);
    const row: Row = { values: names.map((n) => values[n] ?? null), label: label.positive, type: e.type };
    if (label.positive) {
      row.group = label.groups[0];
      const arr = positives.get(e.type);
      if (arr) arr.push(row);
      else positives.set(e.type, [row]);
      return;
    }
    let r = reservoir.get(e.type);
    if (!r) reservoir.set(e.type, (r = { rows: [], seen: 0 }));
    r.seen++;
    if (r.rows.length < maxNeg) r.rows.push(row);
    else {
      const j = Math.floor(rng.float() * r.seen);
      if (j < maxNeg) r.rows[j] = row;
    }
  };
  const op: Operator = { onEvent: (e) => onRow(e, extractor.onEvent(e)) };
  const res = await streamInput(opts.input, [op], { surveillance: opts.surveillance, onAlert: (a) => extractor.onAlert(a), onProgress: opts.onProgress });

  const posCount = (t: string) => positives.get(t)?.length ?? 0;
  const eventTypes = opts.eventTypes ?? [...positives.keys()].sort((a, b) => posCount(b) - posCount(a) || (a < b ? -1 : 1)).slice(0, 1);
  const rows: Row[] = [];
  let populationEvents = 0;
  for (const t of eventTypes) {
    const pos = positives.get(t) ?? [];
    const r = reservoir.get(t) ?? { rows: [], seen: 0 };
    populationEvents += pos.length + r.seen;
    const w = r.rows.length > 0 ? r.seen / r.rows.length : 1;
    rows.push(...pos, ...r.rows.map((x) => ({ ...x, weight: w })));
  }
  const ds: MiningDataset = datasetFromRows(features, rows);
  const nPos = rows.filter((r) => r.label).length;
  const learned = nPos > 0 ? learnRules(ds, opts) : [];
  const prefix = opts.namePrefix ?? `mined_${opts.typology ?? 'abuse'}`;
  const candidates: MinedCandidate[] = learned.map((r, i) => {
    const name = `${prefix}_${i + 1}`;
    const source = renderRule(r, {
      name,
      description: `Mined${opts.typology ? ` for ${opts.typology}` : ''} (at mining: ${metricsSummary(r)})`,
      eventTypes,
      outcome: opts.outcome ?? 'review',
      score: opts.score ?? 60,
      tags: ['mined', ...(opts.typology ? [opts.typology] : [])],
    });
    return { ...r, name, source };
  });
  const source = candidates.map((c) => `# support ${Math.round(c.metrics.support)} events, coverage ${(c.metrics.coverage * 100).toFixed(3)}% of ${eventTypes.join('/')} events\n${c.source}`).join('\n');
  if (candidates.length > 0) {
    const check = checkRules(source);
    if (!check.ok) throw new Error(`mined rules do not compile (a miner bug): ${check.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('; ')}`);
  }
  return {
    ...(opts.typology ? { typology: opts.typology } : {}),
    eventTypes,
    features,
    rows: rows.length,
    positives: nPos,
    negatives: rows.length - nPos,
    populationEvents,
    events: res.events,
    candidates,
    source,
  };
}

/** A policy document: the baseline's rules (if any) plus the mined candidates. */
export function policyWithRules(base: PolicyDoc, rulesSource: string, description?: string): PolicyDoc {
  const rules = base.rules.trimEnd() + '\n\n' + rulesSource.trim() + '\n';
  return { ...base, rules, ...(description !== undefined ? { description } : {}) };
}
