import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import type { LabelEpisode } from '../events/labels.js';
import type { ExchangeEvent } from '../events/schema.js';
import { accountsOf } from '../rules/fields.js';
import { formatIssues } from '../events/validate.js';
import type { Alert } from '../surveillance/alert.js';
import { readLabelsFile } from '../surveillance/eval.js';

/**
 * Ground truth for policies: which events (and so which decisions) are abuse. Two sources:
 *  - labelled episodes (the simulator's labels.ndjson): an event is positive when one of its
 *    accounts is among an episode's accounts and its time lies inside the episode (widened by a
 *    tolerance), or when it is one of the episode's orders or trades;
 *  - analysts' case dispositions: {alertId | eventId | account, disposition, at}; a confirmed
 *    account makes its events within `accountWindowMs` of `at` positive, a confirmed event id that
 *    event, and a dismissed one marks it a known false positive.
 */

export const CaseDisposition = z
  .object({
    alertId: z.string().min(1).optional(),
    eventId: z.string().min(1).optional(),
    account: z.string().min(1).optional(),
    disposition: z.enum(['confirmed', 'dismissed']),
    at: z.number().int().nonnegative().describe('event time of the case (ms)'),
    typology: z.string().optional(),
  })
  .refine((d) => d.alertId !== undefined || d.eventId !== undefined || d.account !== undefined, { message: 'a disposition needs alertId, eventId or account' });
export type CaseDisposition = z.infer<typeof CaseDisposition>;

/** The label of one event: the episodes (or confirmed cases) it belongs to. */
export interface EventLabel {
  positive: boolean;
  /** Episode ids (or `case:<account|eventId>`) the event belongs to. */
  groups: string[];
  typologies: string[];
}

const NEGATIVE: EventLabel = { positive: false, groups: [], typologies: [] };

export interface LabelerOptions {
  /** Only episodes of these typologies count as positive (default: all). */
  typologies?: readonly string[];
  /** Widens each episode's time window on both sides (ms), default 0. */
  toleranceMs?: number;
  /** A confirmed account disposition covers its events within ± this (ms) of `at`, default 1 h. */
  accountWindowMs?: number;
  /** Alerts that `alertId` dispositions refer to: a confirmed alert makes its accounts positive over its window. */
  alerts?: readonly Alert[];
}

/** A group of ground truth an evaluation counts hits against: an episode or a confirmed case. */
export interface TruthGroup {
  id: string;
  typology?: string;
  accounts: string[];
  startTime: number;
  endTime: number;
}

/** Labels events against episodes and dispositions, indexed by account so each lookup is cheap. */
export class EventLabeler {
  private readonly byAccount = new Map<string, TruthGroup[]>();
  private readonly orderOrTrade = new Map<string, TruthGroup>();
  private readonly confirmedEvents = new Map<string, TruthGroup>();
  readonly groups: TruthGroup[] = [];
  private readonly tol: number;

  constructor(episodes: readonly LabelEpisode[], dispositions: readonly CaseDisposition[] = [], opts: LabelerOptions = {}) {
    this.tol = opts.toleranceMs ?? 0;
    const only = opts.typologies ? new Set(opts.typologies) : null;
    for (const ep of episodes) {
      if (only && !only.has(ep.typology)) continue;
      const g: TruthGroup = { id: ep.id, typology: ep.typology, accounts: [...new Set(ep.accounts)], startTime: ep.startTime, endTime: ep.endTime };
      this.add(g);
      for (const id of ep.orderIds) this.orderOrTrade.set(id, g);
      for (const id of ep.tradeIds) this.orderOrTrade.set(id, g);
    }
    const win = opts.accountWindowMs ?? 3_600_000;
    const alerts = new Map((opts.alerts ?? []).map((a) => [a.id, a]));
    for (const d of dispositions) {
      if (d.disposition !== 'confirmed') continue;
      if (only && d.typology !== undefined && !only.has(d.typology)) continue;
      const alert = d.alertId !== undefined ? alerts.get(d.alertId) : undefined;
      if (alert) this.add({ id: `case:${alert.id}`, typology: d.typology ?? alert.typology, accounts: [...new Set(alert.accounts)], startTime: alert.startTime - this.tol, endTime: alert.endTime + this.tol });
      else if (d.account !== undefined) this.add({ id: `case:${d.account}@${d.at}`, typology: d.typology, accounts: [d.account], startTime: d.at - win, endTime: d.at + win });
      else if (d.eventId !== undefined) {
        const g: TruthGroup = { id: `case:${d.eventId}`, typology: d.typology, accounts: [], startTime: d.at, endTime: d.at };
        this.groups.push(g);
        this.confirmedEvents.set(d.eventId, g);
      }
    }
  }

  private add(g: TruthGroup): void {
    this.groups.push(g);
    for (const a of g.accounts) {
      const arr = this.byAccount.get(a);
      if (arr) arr.push(g);
      else this.byAccount.set(a, [g]);
    }
  }

  /** The ground-truth groups an event belongs to (empty: a negative). */
  label(e: ExchangeEvent): EventLabel {
    let hits: TruthGroup[] | undefined;
    const push = (g: TruthGroup) => {
      if (!hits) hits = [g];
      else if (!hits.includes(g)) hits.push(g);
    };
    const c = this.confirmedEvents.get(e.id);
    if (c) push(c);
    const r = e as Record<string, unknown>;
    for (const k of ['orderId', 'tradeId']) {
      const v = r[k];
      if (typeof v === 'string') {
        const g = this.orderOrTrade.get(v);
        if (g) push(g);
      }
    }
    for (const a of accountsOf(e as unknown as Record<string, unknown>)) {
      const gs = this.byAccount.get(a);
      if (!gs) continue;
      for (const g of gs) if (e.ts >= g.startTime - this.tol && e.ts <= g.endTime + this.tol) push(g);
    }
    if (!hits) return NEGATIVE;
    return { positive: true, groups: hits.map((g) => g.id), typologies: [...new Set(hits.map((g) => g.typology ?? 'confirmed'))] };
  }
}

async function readText(path: string): Promise<string> {
  const buf = await readFile(path);
  return (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
}

/** Reads case dispositions: NDJSON, one {alertId|eventId|account, disposition, at} per line. */
export async function readDispositionsFile(path: string): Promise<CaseDisposition[]> {
  const out: CaseDisposition[] = [];
  const lines = (await readText(path)).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (err) {
      throw new Error(`${path}:${i + 1}: invalid JSON: ${(err as Error).message}`);
    }
    const r = CaseDisposition.safeParse(v);
    if (!r.success) throw new Error(`${path}:${i + 1}: not a case disposition: ${formatIssues(r.error)}`);
    out.push(r.data);
  }
  return out;
}

/** Ground truth from a file: label episodes (the simulator's labels.ndjson) or case dispositions, told apart by their fields. */
export async function readTruthFile(path: string): Promise<{ episodes: LabelEpisode[]; dispositions: CaseDisposition[] }> {
  const text = await readText(path);
  const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
  if (/"disposition"\s*:/.test(first)) return { episodes: [], dispositions: await readDispositionsFile(path) };
  return { episodes: await readLabelsFile(path), dispositions: [] };
}
