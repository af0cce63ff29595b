import type { Ewma } from '../../stream/ewma.js';
import { TimeWindow } from './window.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A window kept per account: its length, and whether its maximum is read. */
export const WINDOWS = {
  trades24h: { ms: DAY },
  notional24h: { ms: DAY },
  notional7d: { ms: 7 * DAY },
  takerNotional7d: { ms: 7 * DAY },
  orders24h: { ms: DAY },
  cancels24h: { ms: DAY },
  realizedPnl7d: { ms: 7 * DAY },
  liquidations30d: { ms: 30 * DAY },
  liquidatedNotional30d: { ms: 30 * DAY },
  deposits7d: { ms: 7 * DAY },
  deposits30d: { ms: 30 * DAY },
  withdrawals24h: { ms: DAY },
  withdrawals7d: { ms: 7 * DAY, max: true },
  withdrawals30d: { ms: 30 * DAY },
  failedWithdrawals30d: { ms: 30 * DAY },
  logins7d: { ms: 7 * DAY },
  logins30d: { ms: 30 * DAY },
  failedLogins7d: { ms: 7 * DAY },
  foreignLogins30d: { ms: 30 * DAY },
  newDevices7d: { ms: 7 * DAY },
  alerts30d: { ms: 30 * DAY },
  highAlerts30d: { ms: 30 * DAY },
} as const satisfies Record<string, { ms: number; max?: boolean }>;
export type WindowName = keyof typeof WINDOWS;

export interface OpenPosition {
  /** Latest position snapshot: signed size, leverage, unrealised PnL. */
  size: number;
  leverage: number;
  unrealizedPnl: number;
}

export interface Lot {
  /** Average-cost book of the account's trades in one market, for realised PnL. */
  qty: number;
  avg: number;
}

export interface LoanState {
  asset: string;
  debt: number;
  product: string;
}

/**
 * Everything the feature definitions read about one account, as of the last event applied. Windows
 * are created on first use, so a quiet account costs a few fields.
 */
export class AccountState {
  openedAt = NaN;
  firstSeen = NaN;
  kycLevel = NaN;
  country: string | undefined;
  readonly windows = new Map<WindowName, TimeWindow>();
  /** Asset → free balance (last snapshot plus flows since). */
  readonly balances = new Map<string, number>();
  /** Asset → amount pledged as collateral. */
  readonly collateral = new Map<string, number>();
  readonly positions = new Map<string, OpenPosition>();
  readonly lots = new Map<string, Lot>();
  readonly loans = new Map<string, LoanState>();
  readonly devices = new Set<string>();
  readonly ips = new Set<string>();
  readonly loginCountries = new Set<string>();
  readonly withdrawalAddresses = new Set<string>();
  liquidationsTotal = 0;
  lastLiquidation = NaN;
  loansBorrowed = 0;
  loansRepaid = 0;
  loanLiquidations = 0;
  interestPaidUsd = 0;
  orderLeverage = NaN;
  leverageEwma: Ewma | undefined;

  add(name: WindowName, t: number, v = 1): void {
    let w = this.windows.get(name);
    if (!w) {
      const spec: { ms: number; max?: boolean } = WINDOWS[name];
      this.windows.set(name, (w = new TimeWindow(spec.ms, spec.max === true)));
    }
    w.add(t, v);
  }

  sum(name: WindowName, asOf: number): number {
    return this.windows.get(name)?.sum(asOf) ?? 0;
  }

  count(name: WindowName, asOf: number): number {
    return this.windows.get(name)?.count(asOf) ?? 0;
  }

  max(name: WindowName, asOf: number): number {
    return this.windows.get(name)?.max(asOf) ?? 0;
  }
}
