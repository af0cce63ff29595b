import type { LabelEpisode } from '../events/labels.js';
import type { ExchangeEvent } from '../events/schema.js';
import type { Operator } from '../pipeline/types.js';
import { compilePolicy, type Decision, type Outcome, type PolicyDoc, type RuleEngine } from '../rules/index.js';
import type { Alert } from '../surveillance/alert.js';
import { AlertScorer, alertKey, type Scorecard } from './evaluation.js';
import { streamInput, truthFor, type EventInput, type InputProgress } from './input.js';
import { EventLabeler, type CaseDisposition } from './labels.js';
import type { PolicyRegistry, ShadowDecisionInput } from './registry.js';

/**
 * Shadow mode: candidate versions run beside the active one on the live stream. Only the active
 * version's decisions leave the operator (`onDecision`); every shadow decision is a phantom: it is
 * compared with the active decision on the same event, counted, and (with a registry) recorded for
 * later review, but never acted on. Events on which both sides allow are counted, not stored.
 */
export interface ShadowVersion {
  doc: PolicyDoc;
  version: number;
}

export interface ShadowRunnerOptions {
  /** The live version; without one every event is allowed (and shadows are compared with allow). */
  active?: ShadowVersion;
  shadows: ShadowVersion[];
  /** Real decisions: the active version's non-allow decisions. */
  onDecision?: (d: Decision) => void;
  /** Where phantom decisions are recorded (PolicyRegistry.recordShadowDecisions). */
  registry?: Pick<PolicyRegistry, 'recordShadowDecisions'>;
  /** Records per registry write (default 500). */
  batchSize?: number;
  /** Ground truth, to score each side as it runs (optional). */
  labeler?: EventLabeler;
  alertGapMs?: number;
}

export interface ShadowStats {
  policy: string;
  version: number;
  activeVersion: number | null;
  events: number;
  /** Events where the shadow and the active version reached the same outcome. */
  agree: number;
  disagree: number;
  /** Non-allow outcomes only the shadow / only the active version reached. */
  onlyShadow: number;
  onlyActive: number;
  /** (shadow outcome → active outcome) counts over the disagreements. */
  pairs: Record<string, number>;
  recorded: number;
  /** With ground truth: each side's scorecard over the same events. */
  shadowScore?: Scorecard;
  activeScore?: Scorecard;
  /** A few disagreements with both explanations. */
  examples: { eventId: string; ts: number; shadow: Outcome; active: Outcome; shadowExplanation: string; activeExplanation: string }[];
}

interface ShadowState {
  v: ShadowVersion;
  engine: RuleEngine;
  stats: ShadowStats;
  buffer: ShadowDecisionInput[];
  scorer?: AlertScorer;
}

export class ShadowRunner implements Operator {
  private readonly active?: RuleEngine;
  private readonly shadows: ShadowState[];
  private readonly activeScorer?: AlertScorer;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private firstTs: number | null = null;
  private lastTs: number | null = null;

  constructor(private readonly opts: ShadowRunnerOptions) {
    if (opts.shadows.length === 0) throw new Error('shadow mode needs at least one shadow version');
    if (opts.active) this.active = compilePolicy(opts.active.doc).createEngine({ version: opts.active.version });
    const gap = opts.alertGapMs ?? 600_000;
    if (opts.labeler) this.activeScorer = new AlertScorer(gap);
    this.shadows = opts.shadows.map((v) => ({
      v,
      engine: compilePolicy(v.doc).createEngine({ version: v.version }),
      buffer: [],
      ...(opts.labeler ? { scorer: new AlertScorer(gap) } : {}),
      stats: { policy: v.doc.name, version: v.version, activeVersion: opts.active?.version ?? null, events: 0, agree: 0, disagree: 0, onlyShadow: 0, onlyActive: 0, pairs: {}, recorded: 0, examples: [] },
    }));
  }

  onEvent(e: ExchangeEvent): void {
    if (this.firstTs === null) this.firstTs = e.ts;
    this.lastTs = e.ts;
    const a = this.active ? this.active.evaluate(e) : null;
    const aActs = a !== null && a.outcome !== 'allow';
    if (aActs) this.opts.onDecision?.(a);
    let label: ReturnType<EventLabeler['label']> | undefined;
    const labelOf = () => (label ??= this.opts.labeler!.label(e));
    if (aActs && this.activeScorer) this.activeScorer.add(alertKey(a), a.ts, labelOf());
    for (const s of this.shadows) {
      const d = s.engine.evaluate(e);
      const st = s.stats;
      st.events++;
      const sActs = d.outcome !== 'allow';
      const aOutcome: Outcome = a?.outcome ?? 'allow';
      if (d.outcome === aOutcome) st.agree++;
      else {
        st.disagree++;
        const k = `${d.outcome}→${aOutcome}`;
        st.pairs[k] = (st.pairs[k] ?? 0) + 1;
        if (sActs && !aActs) st.onlyShadow++;
        if (aActs && !sActs) st.onlyActive++;
        if (st.examples.length < 5) st.examples.push({ eventId: e.id, ts: e.ts, shadow: d.outcome, active: aOutcome, shadowExplanation: d.explanation, activeExplanation: a?.explanation ?? 'no active version: allow' });
      }
      if (sActs && s.scorer) s.scorer.add(alertKey(d), d.ts, labelOf());
      if (!sActs && !aActs) continue;
      if (this.opts.registry) {
        s.buffer.push({ candidate: d, active: a });
        if (s.buffer.length >= (this.opts.batchSize ?? 500)) this.flushOne(s);
      }
    }
  }

  /** Alerts feed alerts(...) on every side alike. */
  onAlert(a: Alert): void {
    this.active?.onAlert(a);
    for (const s of this.shadows) s.engine.onAlert(a);
  }

  private flushOne(s: ShadowState): void {
    const batch = s.buffer;
    s.buffer = [];
    const reg = this.opts.registry!;
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        s.stats.recorded += await reg.recordShadowDecisions(s.v.doc.name, s.v.version, batch);
      } catch (err) {
        this.failure = err as Error;
      }
    });
  }

  /** Writes what is buffered and waits for every write. */
  async flush(): Promise<void> {
    if (this.opts.registry) for (const s of this.shadows) if (s.buffer.length) this.flushOne(s);
    await this.chain;
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<void> {
    await this.flush();
  }

  stats(): ShadowStats[] {
    const span = this.firstTs !== null && this.lastTs !== null ? this.lastTs - this.firstTs : 0;
    const groups = this.opts.labeler?.groups ?? [];
    return this.shadows.map((s) => ({
      ...s.stats,
      pairs: { ...s.stats.pairs },
      examples: [...s.stats.examples],
      ...(s.scorer ? { shadowScore: s.scorer.scorecard(groups, span), activeScore: this.activeScorer!.scorecard(groups, span) } : {}),
    }));
  }
}

export interface RunShadowOptions {
  registry: PolicyRegistry;
  policy: string;
  /** Shadow versions to run (default: every version of the policy in shadow). */
  versions?: number[];
  input: EventInput;
  labels?: LabelEpisode[];
  dispositions?: CaseDisposition[];
  typologies?: string[];
  surveillance?: boolean;
  onDecision?: (d: Decision) => void;
  onProgress?: (events: number, info?: InputProgress) => void;
}

/** Runs the policy's shadow versions beside its active one over an input, recording phantom decisions in the registry. */
export async function runShadow(opts: RunShadowOptions): Promise<{ events: number; stats: ShadowStats[] }> {
  const reg = opts.registry;
  const active = await reg.active(opts.policy);
  const inShadow = await reg.shadows(opts.policy);
  const chosen = opts.versions ? opts.versions.map((v) => inShadow.find((s) => s.version === v) ?? v) : inShadow;
  const shadows: ShadowVersion[] = chosen.map((s) => {
    if (typeof s === 'number') throw new Error(`${opts.policy} v${s} is not in shadow (start it with \`riskloop policy shadow ${opts.policy} --version ${s} --start\`)`);
    return { doc: s.doc, version: s.version };
  });
  if (shadows.length === 0) throw new Error(`${opts.policy} has no version in shadow`);
  // Ground truth is optional in shadow (live traffic has none yet); a simulator brings its own.
  const truth = opts.labels || opts.dispositions || 'sim' in opts.input;
  const labeler = truth ? new EventLabeler(await truthFor(opts.input, opts.labels, opts.dispositions), opts.dispositions ?? [], { typologies: opts.typologies }) : undefined;
  const runner = new ShadowRunner({ ...(active ? { active: { doc: active.doc, version: active.version } } : {}), shadows, registry: reg, onDecision: opts.onDecision, ...(labeler ? { labeler } : {}) });
  const res = await streamInput(opts.input, [runner], { surveillance: opts.surveillance, onAlert: (a) => runner.onAlert(a), onProgress: opts.onProgress });
  return { events: res.events, stats: runner.stats() };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

export function formatShadowStats(stats: ShadowStats[]): string {
  const out: string[] = [];
  for (const s of stats) {
    out.push(`${s.policy} v${s.version} in shadow beside ${s.activeVersion === null ? 'no active version' : `v${s.activeVersion}`}: ${s.events} events, agree ${s.agree}, disagree ${s.disagree} (only shadow acts ${s.onlyShadow}, only active acts ${s.onlyActive}); ${s.recorded} phantom decisions recorded`);
    for (const [k, n] of Object.entries(s.pairs).sort((a, b) => b[1] - a[1])) out.push(`  shadow→active ${k}: ${n}`);
    if (s.shadowScore && s.activeScore) {
      const line = (name: string, c: Scorecard) => `  ${name}: ${c.groupsCaught}/${c.groups} episodes, ${c.alerts} alerts, precision ${pct(c.precision)}`;
      out.push(line('shadow', s.shadowScore), line('active', s.activeScore));
    }
    for (const x of s.examples.slice(0, 3)) out.push(`  e.g. ${x.eventId}: shadow ${x.shadow} — ${x.shadowExplanation}`);
  }
  return out.join('\n');
}
