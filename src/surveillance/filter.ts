import type { Typology } from '../events/labels.js';

/**
 * Allow-lists and suppressions from config, applied when an alert would open.
 *
 * - Allow-listed accounts: an alert is dropped when it names accounts and every one of them is
 *   allow-listed (e.g. the exchange's own market makers). An alert that also names another account
 *   still fires.
 * - Allow-listed markets: likewise for markets (e.g. test markets).
 * - A suppression matches by typology ("*" or absent: any), account (one of the alert's), market
 *   (one of the alert's), and an optional event-time range [from, until) on the alert's start.
 *
 * Suppressed alerts are counted by reason in the engine stats, never silently lost.
 */
export interface SuppressionRule {
  typology?: Typology | '*';
  account?: string;
  market?: string;
  from?: number;
  until?: number;
  reason?: string;
}

export class AlertFilter {
  private readonly accounts: Set<string>;
  private readonly markets: Set<string>;
  constructor(allow: { accounts?: readonly string[]; markets?: readonly string[] } = {}, private readonly rules: readonly SuppressionRule[] = []) {
    this.accounts = new Set(allow.accounts ?? []);
    this.markets = new Set(allow.markets ?? []);
  }

  /** Why an alert with these attributes is suppressed, or undefined if it may fire. */
  suppressReason(typology: Typology, markets: readonly string[], accounts: readonly string[], startTime: number): string | undefined {
    if (accounts.length > 0 && this.accounts.size > 0 && accounts.every((a) => this.accounts.has(a))) return 'allow-listed account';
    if (markets.length > 0 && this.markets.size > 0 && markets.every((m) => this.markets.has(m))) return 'allow-listed market';
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i];
      if (r.typology !== undefined && r.typology !== '*' && r.typology !== typology) continue;
      if (r.account !== undefined && !accounts.includes(r.account)) continue;
      if (r.market !== undefined && !markets.includes(r.market)) continue;
      if (r.from !== undefined && startTime < r.from) continue;
      if (r.until !== undefined && startTime >= r.until) continue;
      return `suppression: ${r.reason ?? `rule ${i + 1}`}`;
    }
    return undefined;
  }
}
