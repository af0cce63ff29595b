import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { LabelEpisode, TYPOLOGIES } from '../events/labels.js';
import { formatIssues } from '../events/validate.js';
import { formatTable } from '../pipeline/summary.js';
import { Alert, finalAlerts } from './alert.js';

/**
 * Evaluation of alerts against labelled abuse episodes (e.g. the simulator's labels.ndjson).
 *
 * An alert matches a label when all hold:
 *  - same typology (variants are not compared);
 *  - their event-time windows overlap, the alert's widened by `toleranceMs` on both sides:
 *    [alert.startTime − tol, alert.endTime + tol] ∩ [label.startTime, label.endTime] ≠ ∅;
 *  - they share at least one account — or, when the alert names no account (a market-level
 *    alert, e.g. from a public feed), at least one market.
 *
 * Matching is many-to-many: an alert is a true positive if it matches any label (precision =
 * matched alerts / alerts); a label is detected if any alert matches it (recall = detected labels /
 * labels). The detection delay of a detected label is the earliest `detectedAt` of its matching
 * alerts minus the label's `onsetTime` (when the abuse first shows in the market, e.g. a pump's first
 * rush after quiet accumulation) or, without one, its `startTime`; floored at 0 (an alert may fire
 * within the tolerance before the labelled start). Per typology and in total (micro-averaged: the totals row pools all alerts
 * and labels).
 */
export interface EvalOptions {
  /** Slack on the alert's time window (ms), default 60 000. */
  toleranceMs?: number;
}

export interface TypologyMetrics {
  typology: string;
  alerts: number;
  labels: number;
  matchedAlerts: number;
  detectedLabels: number;
  /** null when there are no alerts */
  precision: number | null;
  /** null when there are no labels */
  recall: number | null;
  f1: number | null;
  /** Median detection delay in ms over detected labels; null when none was detected. */
  medianDelayMs: number | null;
}

export interface EvalReport {
  toleranceMs: number;
  rows: TypologyMetrics[];
  total: TypologyMetrics;
}

function overlaps(a: readonly string[], b: readonly string[]): boolean {
  for (const x of a) if (b.includes(x)) return true;
  return false;
}

export function alertMatchesLabel(a: Alert, l: LabelEpisode, toleranceMs: number): boolean {
  if (a.typology !== l.typology) return false;
  if (a.startTime - toleranceMs > l.endTime || a.endTime + toleranceMs < l.startTime) return false;
  return a.accounts.length > 0 && l.accounts.length > 0 ? overlaps(a.accounts, l.accounts) : overlaps(a.markets, l.markets);
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function metrics(typology: string, alerts: number, labels: number, matchedAlerts: number, delays: number[]): TypologyMetrics {
  const precision = alerts > 0 ? matchedAlerts / alerts : null;
  const recall = labels > 0 ? delays.length / labels : null;
  const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { typology, alerts, labels, matchedAlerts, detectedLabels: delays.length, precision, recall, f1, medianDelayMs: median(delays) };
}

/** Scores final alerts (one per id; transitions are reduced to their last state) against labels. */
export function evaluate(alerts: readonly Alert[], labels: readonly LabelEpisode[], opts: EvalOptions = {}): EvalReport {
  return evaluateRuns([{ alerts, labels }], opts);
}

/** One run's alerts and the labels of the same run (e.g. one simulator seed). */
export interface EvalRun {
  alerts: readonly Alert[];
  labels: readonly LabelEpisode[];
}

/**
 * Scores several runs pooled: alerts are matched only to labels of their own run (accounts, markets
 * and times of different runs are unrelated), then counts and delays are summed per typology. With
 * a few labels per typology per run, one miss moves a run's F1 by 0.1 or more; the pooled figure is
 * the stabler estimate.
 */
export function evaluateRuns(runs: readonly EvalRun[], opts: EvalOptions = {}): EvalReport {
  const tol = opts.toleranceMs ?? 60_000;
  const acc: Tally = { alertsByTyp: new Map(), matchedByTyp: new Map(), labelsByTyp: new Map(), delaysByTyp: new Map() };
  for (const r of runs) tallyRun(finalAlerts(r.alerts), r.labels, tol, acc);
  const { alertsByTyp, matchedByTyp, labelsByTyp, delaysByTyp } = acc;
  const present = new Set([...alertsByTyp.keys(), ...labelsByTyp.keys()]);
  const order = [...TYPOLOGIES.filter((t) => present.has(t)), ...[...present].filter((t) => !(TYPOLOGIES as readonly string[]).includes(t)).sort()];
  const rows = order.map((t) => metrics(t, alertsByTyp.get(t) ?? 0, labelsByTyp.get(t) ?? 0, matchedByTyp.get(t) ?? 0, delaysByTyp.get(t) ?? []));
  const total = metrics(
    'total',
    rows.reduce((s, r) => s + r.alerts, 0),
    rows.reduce((s, r) => s + r.labels, 0),
    rows.reduce((s, r) => s + r.matchedAlerts, 0),
    [...delaysByTyp.values()].flat(),
  );
  return { toleranceMs: tol, rows, total };
}

interface Tally {
  alertsByTyp: Map<string, number>;
  matchedByTyp: Map<string, number>;
  labelsByTyp: Map<string, number>;
  delaysByTyp: Map<string, number[]>;
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

function tallyRun(alerts: readonly Alert[], labels: readonly LabelEpisode[], tol: number, t: Tally): void {
  // index labels by typology, then by account and by market
  const byAccount = new Map<string, LabelEpisode[]>();
  const byMarket = new Map<string, LabelEpisode[]>();
  const add = (m: Map<string, LabelEpisode[]>, k: string, l: LabelEpisode) => {
    const arr = m.get(k);
    if (arr) arr.push(l);
    else m.set(k, [l]);
  };
  for (const l of labels) {
    for (const a of new Set(l.accounts)) add(byAccount, `${l.typology}\u0000${a}`, l);
    for (const m of new Set(l.markets)) add(byMarket, `${l.typology}\u0000${m}`, l);
  }
  const firstDetection = new Map<LabelEpisode, number>();
  for (const a of alerts) {
    bump(t.alertsByTyp, a.typology);
    const candidates = new Set<LabelEpisode>();
    if (a.accounts.length > 0) for (const acc of a.accounts) for (const l of byAccount.get(`${a.typology}\u0000${acc}`) ?? []) candidates.add(l);
    for (const m of a.markets) for (const l of byMarket.get(`${a.typology}\u0000${m}`) ?? []) candidates.add(l);
    let matched = false;
    for (const l of candidates) {
      if (!alertMatchesLabel(a, l, tol)) continue;
      matched = true;
      const d = Math.max(0, a.detectedAt - (l.onsetTime ?? l.startTime));
      const prev = firstDetection.get(l);
      if (prev === undefined || d < prev) firstDetection.set(l, d);
    }
    if (matched) bump(t.matchedByTyp, a.typology);
  }
  for (const l of labels) bump(t.labelsByTyp, l.typology);
  for (const [l, d] of firstDetection) {
    const arr = t.delaysByTyp.get(l.typology);
    if (arr) arr.push(d);
    else t.delaysByTyp.set(l.typology, [d]);
  }
}

async function readText(path: string): Promise<string> {
  const buf = await readFile(path);
  return (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
}

function lines(text: string): [number, string][] {
  return text
    .split('\n')
    .map((l, i) => [i + 1, l.trim()] as [number, string])
    .filter(([, l]) => l !== '');
}

/** Reads an alerts NDJSON file (transitions or final alerts, plain or .gz); returns the final state per id. */
export async function readAlertsFile(path: string): Promise<Alert[]> {
  const out: Alert[] = [];
  for (const [n, l] of lines(await readText(path))) {
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (err) {
      throw new Error(`${path}:${n}: invalid JSON: ${(err as Error).message}`);
    }
    const r = Alert.safeParse(v);
    if (!r.success) throw new Error(`${path}:${n}: not an alert: ${formatIssues(r.error)}`);
    out.push(r.data);
  }
  return finalAlerts(out);
}

/** Reads labelled episodes: NDJSON (one LabelEpisode per line) or a JSON array, plain or .gz. */
export async function readLabelsFile(path: string): Promise<LabelEpisode[]> {
  const text = await readText(path);
  const items: [number, unknown][] = [];
  if (text.trimStart().startsWith('[')) {
    (JSON.parse(text) as unknown[]).forEach((v, i) => items.push([i + 1, v]));
  } else {
    for (const [n, l] of lines(text)) {
      try {
        items.push([n, JSON.parse(l)]);
      } catch (err) {
        throw new Error(`${path}:${n}: invalid JSON: ${(err as Error).message}`);
      }
    }
  }
  return items.map(([n, v]) => {
    const r = LabelEpisode.safeParse(v);
    if (!r.success) throw new Error(`${path}:${n}: not a label episode: ${formatIssues(r.error)}`);
    return r.data;
  });
}

const fmt = (x: number | null, digits = 3) => (x === null ? '-' : x.toFixed(digits));
const fmtDelay = (ms: number | null) => (ms === null ? '-' : ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`);

export function formatEvalTable(r: EvalReport): string {
  const rows = [...r.rows, r.total].map((m) => [m.typology, m.alerts, m.labels, m.matchedAlerts, m.detectedLabels, fmt(m.precision), fmt(m.recall), fmt(m.f1), fmtDelay(m.medianDelayMs)]);
  return formatTable(['typology', 'alerts', 'labels', 'TP alerts', 'detected', 'precision', 'recall', 'F1', 'median delay'], rows) + `\n(time tolerance ±${r.toleranceMs / 1000} s)`;
}
