import type { ExchangeEvent } from '../events/schema.js';
import { marketOf } from '../events/schema.js';
import type { DeadLetter, Operator } from './types.js';

export interface ReplaySummary {
  accepted: number;
  rejected: number;
  duplicates: number;
  /** Accepted events that arrived too late for surveillance's watermark (dead-lettered there, not rejected by decoding). */
  lateForSurveillance: number;
  acceptedByType: Record<string, number>;
  acceptedByMarket: Record<string, number>;
  acceptedByTypeAndMarket: Record<string, Record<string, number>>;
  rejectedByType: Record<string, number>;
  rejectedByReason: Record<string, number>;
  firstEventTime: number | null;
  lastEventTime: number | null;
}

function bump(m: Record<string, number>, k: string, n = 1): void {
  m[k] = (m[k] ?? 0) + n;
}

/** Reason families: the part before the first detail, so counts group sensibly. */
function reasonKey(reason: string): string {
  const cut = reason.search(/[:;(]/);
  return (cut > 0 ? reason.slice(0, cut) : reason).trim().slice(0, 80);
}

/** Counts what was accepted and rejected, by type and market. */
export class SummaryCounter implements Operator {
  private byTypeMarket = new Map<string, Map<string, number>>();
  private s: ReplaySummary = {
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    lateForSurveillance: 0,
    acceptedByType: {},
    acceptedByMarket: {},
    acceptedByTypeAndMarket: {},
    rejectedByType: {},
    rejectedByReason: {},
    firstEventTime: null,
    lastEventTime: null,
  };

  onEvent(e: ExchangeEvent): void {
    this.s.accepted++;
    let byMarket = this.byTypeMarket.get(e.type);
    if (!byMarket) this.byTypeMarket.set(e.type, (byMarket = new Map()));
    const m = marketOf(e);
    byMarket.set(m, (byMarket.get(m) ?? 0) + 1);
    if (this.s.firstEventTime === null || e.ts < this.s.firstEventTime) this.s.firstEventTime = e.ts;
    if (this.s.lastEventTime === null || e.ts > this.s.lastEventTime) this.s.lastEventTime = e.ts;
  }

  onDeadLetter(d: DeadLetter): void {
    if (d.reason.startsWith('duplicate event id')) {
      this.s.duplicates++;
      return;
    }
    if (d.reason.startsWith('late event')) {
      this.s.lateForSurveillance++;
      return;
    }
    this.s.rejected++;
    bump(this.s.rejectedByType, d.type ?? '(unknown)');
    bump(this.s.rejectedByReason, reasonKey(d.reason));
  }

  summary(): ReplaySummary {
    const out = { ...this.s, acceptedByType: {}, acceptedByMarket: {}, acceptedByTypeAndMarket: {} } as ReplaySummary;
    for (const [type, byMarket] of [...this.byTypeMarket].sort((a, b) => a[0].localeCompare(b[0]))) {
      const row: Record<string, number> = {};
      for (const [m, n] of [...byMarket].sort((a, b) => a[0].localeCompare(b[0]))) {
        row[m] = n;
        bump(out.acceptedByType, type, n);
        bump(out.acceptedByMarket, m, n);
      }
      out.acceptedByTypeAndMarket[type] = row;
    }
    out.acceptedByMarket = Object.fromEntries(Object.entries(out.acceptedByMarket).sort((a, b) => a[0].localeCompare(b[0])));
    return out;
  }
}

/** A fixed-width table for terminals. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function formatSummary(s: ReplaySummary): string {
  const markets = Object.keys(s.acceptedByMarket);
  const parts = [
    `accepted ${s.accepted}, rejected ${s.rejected}${s.duplicates ? `, duplicates dropped ${s.duplicates}` : ''}${s.lateForSurveillance ? `, ${s.lateForSurveillance} too late for surveillance (see --dead-letters)` : ''}`,
    s.firstEventTime !== null ? `event time ${new Date(s.firstEventTime).toISOString()} .. ${new Date(s.lastEventTime!).toISOString()}` : '',
    '',
  ];
  if (markets.length <= 6) {
    const rows = Object.entries(s.acceptedByTypeAndMarket).map(([type, row]) => [type, ...markets.map((m) => row[m] ?? 0), s.acceptedByType[type]]);
    rows.push(['total', ...markets.map((m) => s.acceptedByMarket[m]), s.accepted]);
    parts.push(formatTable(['type', ...markets, 'total'], rows));
  } else {
    // Too many markets for one matrix: one table by type, one by market.
    const typeRows = Object.entries(s.acceptedByTypeAndMarket).map(([type, row]) => [type, s.acceptedByType[type], Object.keys(row).length]);
    parts.push(formatTable(['type', 'events', 'markets'], typeRows));
    const byMarketType = (m: string, t: string) => s.acceptedByTypeAndMarket[t]?.[m] ?? 0;
    const marketRows = markets.map((m) => [m, s.acceptedByMarket[m], byMarketType(m, 'trade'), byMarketType(m, 'order.placed'), byMarketType(m, 'order.cancelled')]);
    parts.push('', formatTable(['market', 'events', 'trades', 'orders placed', 'orders cancelled'], marketRows));
  }
  if (s.rejected > 0) {
    parts.push('', formatTable(['rejected: reason', 'count'], Object.entries(s.rejectedByReason).sort((a, b) => b[1] - a[1])));
    parts.push('', formatTable(['rejected: type', 'count'], Object.entries(s.rejectedByType).sort((a, b) => b[1] - a[1])));
  }
  return parts.filter((p, i) => p !== '' || i > 1).join('\n');
}
