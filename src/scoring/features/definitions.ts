import { DAY, type AccountState } from './account.js';
import type { AssetPrices } from './market.js';

export type FeatureGroup = 'account' | 'trading' | 'pnl_leverage' | 'liquidations' | 'flows' | 'assets_collateral' | 'login_device' | 'loans' | 'surveillance' | 'graph';

/** What a feature definition may read: the account's state, market prices, and shared indexes, all as of `asOf`. */
export interface FeatureContext {
  acc: AccountState;
  asOf: number;
  prices: AssetPrices;
  /** Other accounts seen on the same device (global index, as of asOf). */
  accountsOnDevice(device: string): number;
}

/** One feature: ONE definition, read by the online operator and the batch point-in-time join alike. */
export interface FeatureDef {
  name: string;
  group: FeatureGroup;
  description: string;
  read(c: FeatureContext): number;
}

function equity(c: FeatureContext): number {
  let v = 0;
  for (const [asset, amount] of c.acc.balances) if (amount > 0) v += c.prices.value(asset, amount);
  return v;
}

function collateralValue(c: FeatureContext, volWeighted: boolean): number {
  let v = 0;
  for (const [asset, amount] of c.acc.collateral) {
    if (!(amount > 0)) continue;
    const value = c.prices.value(asset, amount);
    if (!volWeighted) v += value;
    else {
      const vol = c.prices.dailyVol(asset);
      // Unknown volatility gets the harshest haircut: the collateral counts for nothing.
      v += Number.isFinite(vol) ? value * Math.max(0, 1 - 3 * vol) : 0;
    }
  }
  return v;
}

function debtValue(c: FeatureContext): number {
  let v = 0;
  for (const l of c.acc.loans.values()) v += c.prices.value(l.asset, l.debt);
  return v;
}

function positionNotional(c: FeatureContext): number {
  let v = 0;
  for (const [market, p] of c.acc.positions) v += Math.abs(p.size) * (c.prices.marketPrice(market) || 0);
  return v;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);

export const FEATURES: readonly FeatureDef[] = [
  // account
  { name: 'account_age_days', group: 'account', description: 'days since the account opened (or was first seen)', read: (c) => (c.asOf - (Number.isFinite(c.acc.openedAt) ? c.acc.openedAt : c.acc.firstSeen)) / DAY },
  { name: 'kyc_level', group: 'account', description: 'KYC level at opening (missing when unknown)', read: (c) => c.acc.kycLevel },
  // trading
  { name: 'trades_24h', group: 'trading', description: 'fills (maker or taker) in the last 24 h', read: (c) => c.acc.count('trades24h', c.asOf) },
  { name: 'trade_notional_24h_usd', group: 'trading', description: 'traded notional in USD, last 24 h', read: (c) => c.acc.sum('notional24h', c.asOf) },
  { name: 'trade_notional_7d_usd', group: 'trading', description: 'traded notional in USD, last 7 days', read: (c) => c.acc.sum('notional7d', c.asOf) },
  { name: 'taker_share_7d', group: 'trading', description: 'share of the 7-day notional taken (missing without trades)', read: (c) => ratio(c.acc.sum('takerNotional7d', c.asOf), c.acc.sum('notional7d', c.asOf)) },
  { name: 'orders_24h', group: 'trading', description: 'orders placed in the last 24 h', read: (c) => c.acc.count('orders24h', c.asOf) },
  { name: 'cancel_ratio_24h', group: 'trading', description: 'cancels per order placed, last 24 h (missing without orders)', read: (c) => ratio(c.acc.count('cancels24h', c.asOf), c.acc.count('orders24h', c.asOf)) },
  // PnL and leverage
  { name: 'realized_pnl_7d_usd', group: 'pnl_leverage', description: 'realised PnL (average cost, per market) in USD, last 7 days', read: (c) => c.acc.sum('realizedPnl7d', c.asOf) },
  { name: 'unrealized_pnl_usd', group: 'pnl_leverage', description: 'unrealised PnL of open positions (latest snapshots)', read: (c) => { let v = 0; for (const p of c.acc.positions.values()) v += p.unrealizedPnl; return v; } },
  { name: 'max_open_leverage', group: 'pnl_leverage', description: 'highest leverage among open positions (0 when flat)', read: (c) => { let v = 0; for (const p of c.acc.positions.values()) v = Math.max(v, p.leverage); return v; } },
  { name: 'order_leverage_ewma', group: 'pnl_leverage', description: 'leverage asked for on orders, EWMA with a 7-day half-life (missing when never asked)', read: (c) => c.acc.orderLeverage },
  { name: 'position_notional_usd', group: 'pnl_leverage', description: 'notional of open positions at current prices', read: positionNotional },
  { name: 'leverage_use', group: 'pnl_leverage', description: 'open position notional / equity (missing without equity)', read: (c) => ratio(positionNotional(c), equity(c)) },
  // liquidations
  { name: 'liquidations_30d', group: 'liquidations', description: 'position and loan liquidations in the last 30 days', read: (c) => c.acc.count('liquidations30d', c.asOf) },
  { name: 'liquidations_total', group: 'liquidations', description: 'liquidations ever', read: (c) => c.acc.liquidationsTotal },
  { name: 'days_since_liquidation', group: 'liquidations', description: 'days since the last liquidation (missing when never)', read: (c) => (c.asOf - c.acc.lastLiquidation) / DAY },
  { name: 'liquidated_notional_30d_usd', group: 'liquidations', description: 'notional liquidated in the last 30 days, USD', read: (c) => c.acc.sum('liquidatedNotional30d', c.asOf) },
  // deposits and withdrawals
  { name: 'deposits_7d_usd', group: 'flows', description: 'completed deposits, USD, last 7 days', read: (c) => c.acc.sum('deposits7d', c.asOf) },
  { name: 'withdrawals_24h_usd', group: 'flows', description: 'completed withdrawals, USD, last 24 h', read: (c) => c.acc.sum('withdrawals24h', c.asOf) },
  { name: 'withdrawals_7d_usd', group: 'flows', description: 'completed withdrawals, USD, last 7 days', read: (c) => c.acc.sum('withdrawals7d', c.asOf) },
  { name: 'largest_withdrawal_7d_usd', group: 'flows', description: 'largest single withdrawal, USD, last 7 days', read: (c) => c.acc.max('withdrawals7d', c.asOf) },
  { name: 'net_flow_30d_usd', group: 'flows', description: 'deposits − withdrawals, USD, last 30 days', read: (c) => c.acc.sum('deposits30d', c.asOf) - c.acc.sum('withdrawals30d', c.asOf) },
  { name: 'withdrawal_share_24h', group: 'flows', description: 'withdrawals of the last 24 h / (equity + those withdrawals)', read: (c) => { const w = c.acc.sum('withdrawals24h', c.asOf); return ratio(w, equity(c) + w); } },
  { name: 'failed_withdrawals_30d', group: 'flows', description: 'failed or rejected withdrawals, last 30 days', read: (c) => c.acc.count('failedWithdrawals30d', c.asOf) },
  { name: 'withdrawal_addresses', group: 'flows', description: 'distinct withdrawal addresses ever used', read: (c) => c.acc.withdrawalAddresses.size },
  // assets and collateral
  { name: 'equity_usd', group: 'assets_collateral', description: 'free balances at current prices, USD', read: equity },
  { name: 'asset_concentration_hhi', group: 'assets_collateral', description: 'Herfindahl index of balances by value (1 = one asset; missing without balances)', read: (c) => {
    const e = equity(c);
    if (!(e > 0)) return NaN;
    let h = 0;
    for (const [asset, amount] of c.acc.balances) if (amount > 0) h += (c.prices.value(asset, amount) / e) ** 2;
    return h;
  } },
  { name: 'collateral_usd', group: 'assets_collateral', description: 'pledged collateral at current prices, USD', read: (c) => collateralValue(c, false) },
  { name: 'vol_weighted_collateral_usd', group: 'assets_collateral', description: 'collateral value × max(0, 1 − 3 · daily volatility of its asset)', read: (c) => collateralValue(c, true) },
  { name: 'collateral_volatility', group: 'assets_collateral', description: 'value-weighted daily volatility of the collateral (missing without collateral)', read: (c) => {
    let v = 0;
    let w = 0;
    for (const [asset, amount] of c.acc.collateral) {
      const value = amount > 0 ? c.prices.value(asset, amount) : 0;
      const vol = c.prices.dailyVol(asset);
      if (value > 0 && Number.isFinite(vol)) { v += value * vol; w += value; }
    }
    return ratio(v, w);
  } },
  // login and device
  { name: 'logins_7d', group: 'login_device', description: 'logins in the last 7 days', read: (c) => c.acc.count('logins7d', c.asOf) },
  { name: 'failed_logins_7d', group: 'login_device', description: 'failed logins in the last 7 days', read: (c) => c.acc.count('failedLogins7d', c.asOf) },
  { name: 'devices_total', group: 'login_device', description: 'distinct devices ever used', read: (c) => c.acc.devices.size },
  { name: 'new_devices_7d', group: 'login_device', description: 'devices first used in the last 7 days', read: (c) => c.acc.count('newDevices7d', c.asOf) },
  { name: 'ips_total', group: 'login_device', description: 'distinct IPs ever used', read: (c) => c.acc.ips.size },
  { name: 'login_countries', group: 'login_device', description: 'distinct login countries', read: (c) => c.acc.loginCountries.size },
  { name: 'foreign_login_share_30d', group: 'login_device', description: 'logins from a country other than the account\'s, share of the last 30 days', read: (c) => ratio(c.acc.count('foreignLogins30d', c.asOf), c.acc.count('logins30d', c.asOf)) },
  { name: 'shared_device_accounts', group: 'login_device', description: 'most other accounts seen on any one of its devices', read: (c) => { let v = 0; for (const d of c.acc.devices) v = Math.max(v, c.accountsOnDevice(d) - 1); return v; } },
  // loans
  { name: 'loans_open', group: 'loans', description: 'loans with debt outstanding', read: (c) => c.acc.loans.size },
  { name: 'debt_usd', group: 'loans', description: 'outstanding debt at current prices, USD', read: debtValue },
  { name: 'loan_ltv', group: 'loans', description: 'debt / collateral value (missing without debt or collateral)', read: (c) => { const d = debtValue(c); return d > 0 ? ratio(d, collateralValue(c, false)) : NaN; } },
  { name: 'loans_borrowed_total', group: 'loans', description: 'loans ever taken', read: (c) => c.acc.loansBorrowed },
  { name: 'repay_ratio', group: 'loans', description: 'loans repaid in full / loans taken (missing when none taken)', read: (c) => ratio(c.acc.loansRepaid, c.acc.loansBorrowed) },
  { name: 'loan_liquidations_total', group: 'loans', description: 'loans liquidated ever', read: (c) => c.acc.loanLiquidations },
  { name: 'interest_paid_usd', group: 'loans', description: 'interest paid on repayments, USD', read: (c) => c.acc.interestPaidUsd },
  // surveillance
  { name: 'alerts_30d', group: 'surveillance', description: 'surveillance alerts naming the account, last 30 days', read: (c) => c.acc.count('alerts30d', c.asOf) },
  { name: 'high_alerts_30d', group: 'surveillance', description: 'high or critical alerts, last 30 days', read: (c) => c.acc.count('highAlerts30d', c.asOf) },
];
