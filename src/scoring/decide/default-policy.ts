import type { PolicyInput } from './policy.js';

/**
 * The example policy (also examples/scoring/policy.json): margin, collateral loans and a credit line,
 * priced by band of the probability of bad, with the hard rules every exchange has.
 */
export const EXAMPLE_POLICY: PolicyInput = {
  name: 'example-lending',
  version: '1',
  products: [
    {
      id: 'margin',
      currency: 'USDT',
      bands: [
        { band: 'A', maxProbability: 0.01, limit: { base: '2000', per: { equity_usd: 3 }, max: '250000' }, pricing: { apr: '0.06', haircut: '0.05' } },
        { band: 'B', maxProbability: 0.03, limit: { base: '1000', per: { equity_usd: 2 }, max: '100000' }, pricing: { apr: '0.09', haircut: '0.10' } },
        { band: 'C', maxProbability: 0.08, limit: { base: '0', per: { equity_usd: 1 }, max: '25000' }, pricing: { apr: '0.14', haircut: '0.20' } },
        { band: 'D', maxProbability: 1, eligible: false },
      ],
    },
    {
      id: 'collateral_loan',
      currency: 'USDT',
      bands: [
        { band: 'A', maxProbability: 0.01, limit: { per: { vol_weighted_collateral_usd: 0.7 } }, pricing: { apr: '0.05', ltv: '0.70', collateralRatio: '1.43' } },
        { band: 'B', maxProbability: 0.03, limit: { per: { vol_weighted_collateral_usd: 0.6 } }, pricing: { apr: '0.08', ltv: '0.60', collateralRatio: '1.67' } },
        { band: 'C', maxProbability: 0.08, limit: { per: { vol_weighted_collateral_usd: 0.4 } }, pricing: { apr: '0.12', ltv: '0.40', collateralRatio: '2.50' } },
        { band: 'D', maxProbability: 1, limit: { per: { vol_weighted_collateral_usd: 0.25 } }, pricing: { apr: '0.18', ltv: '0.25', collateralRatio: '4.00' } },
      ],
    },
    {
      id: 'credit_line',
      currency: 'USDT',
      bands: [
        { band: 'A', maxProbability: 0.005, limit: { base: '500', per: { equity_usd: 0.2 }, max: '20000' }, pricing: { apr: '0.10' } },
        { band: 'B', maxProbability: 0.015, limit: { base: '200', per: { equity_usd: 0.1 }, max: '5000' }, pricing: { apr: '0.16' } },
        { band: 'C', maxProbability: 1, eligible: false },
      ],
    },
  ],
  hardRules: [
    { id: 'open_liquidation', feature: 'liquidations_30d', op: '>', value: 0, action: 'downgrade', steps: 1, reason: 'liquidated in the last 30 days' },
    { id: 'recent_liquidation_credit', feature: 'liquidations_30d', op: '>', value: 0, action: 'deny', products: ['credit_line'], reason: 'no unsecured credit after a liquidation' },
    { id: 'loan_liquidated', feature: 'loan_liquidations_total', op: '>', value: 0, action: 'deny', products: ['credit_line', 'margin'], reason: 'a loan was liquidated' },
    { id: 'kyc', feature: 'kyc_level', op: '<', value: 1, action: 'deny', products: ['credit_line'], reason: 'credit lines need KYC level 1' },
    { id: 'sanctioned_exposure', feature: 'graph_sanctioned_exposure', op: '>', value: 0, action: 'deny', reason: 'exposure to a sanctioned address' },
    { id: 'high_alerts', feature: 'high_alerts_30d', op: '>', value: 0, action: 'cap', capLimit: '0', products: ['margin', 'credit_line'], reason: 'open high-severity surveillance alert' },
    { id: 'drained', feature: 'withdrawal_share_24h', op: '>=', value: 0.5, action: 'downgrade', steps: 1, reason: 'withdrew half or more of the account in 24 h' },
    { id: 'shared_device', feature: 'shared_device_accounts', op: '>=', value: 3, action: 'cap', capLimit: '1000', reason: 'device shared with 3 or more other accounts' },
  ],
};
