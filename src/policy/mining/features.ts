/**
 * The candidate features the miner learns from, written in the rule language itself, so a mined
 * condition is a feature expression compared with a number and replays exactly as it was learned
 * (the values come from the rule engine's own feature extractor).
 */

const placed = 'type == "order.placed"';
const cancelled = 'type == "order.cancelled"';
const amended = 'type == "order.amended"';
const trade = 'type == "trade"';

/** Order-flow, trading and account-activity features per account and market over several windows. */
export function defaultFeatureCatalogue(opts: { alerts?: boolean } = {}): string[] {
  const f: string[] = [];
  for (const w of ['10s', '1m', '10m']) {
    f.push(`count(by account over ${w} where ${placed})`);
    f.push(`count(by account over ${w} where ${cancelled})`);
  }
  f.push(`count(by (account, market) over 1m where ${placed})`);
  f.push(`count(by (account, market) over 1m where ${cancelled})`);
  f.push(`count(by account over 1m where ${amended})`);
  f.push(`count(by account over 10m where ${trade})`);
  f.push(`count(by account over 10m where ${trade} and selfTrade == true)`);
  // Rates: cancels per placement, placements per trade (the order-to-trade ratio).
  f.push(`count(by account over 1m where ${cancelled}) / count(by account over 1m where ${placed})`);
  f.push(`count(by account over 10m where ${placed}) / (count(by account over 10m where ${trade}) + 1)`);
  f.push(`distinct(market by account over 10m)`);
  f.push(`distinct(orderId by account over 1m where ${placed})`);
  // Sizes against the account's and the market's own history.
  f.push('size');
  f.push('notional');
  f.push('leverage');
  f.push(`size / avg(size by market over 30m where ${placed})`);
  f.push(`notional / avg(notional by account over 1h where ${placed})`);
  f.push(`sum(notional by account over 10m where ${trade})`);
  f.push(`sum(notional by (account, market) over 10m where ${placed})`);
  // Money movement and access.
  f.push('amount');
  f.push(`sum(amount by account over 1d where type == "withdrawal")`);
  f.push(`count(by account over 1h where type == "transfer.internal")`);
  f.push(`distinct(deviceId by account over 1d where type == "login")`);
  f.push(`distinct(ip by account over 1d where type == "login")`);
  if (opts.alerts) {
    f.push('alerts(by account over 1h)');
    f.push('alerts(by account over 1d)');
  }
  return f;
}
