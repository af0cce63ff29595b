import { z } from 'zod';
import { decimal, positiveDecimal, unsignedDecimal } from './decimal.js';

/**
 * The canonical exchange event model. One source of truth: TypeScript types, runtime validation
 * and the JSON Schema in docs/ all derive from these zod schemas.
 */
export const SCHEMA_VERSION = 1;

const id = z.string().min(1).max(256);
const ts = z.number().int().nonnegative().describe('event time, integer milliseconds since the Unix epoch (UTC)');
export const Side = z.enum(['buy', 'sell']);
export const MarketKind = z.enum(['spot', 'perpetual', 'future', 'margin', 'option', 'index']);

/** Fields every event carries. `id` is the deduplication key; `ts` is event time. */
const base = {
  v: z.literal(SCHEMA_VERSION).optional().describe('schema version; absent means the current one'),
  id: id.describe('unique id, the deduplication key'),
  ts,
  seq: z.number().int().nonnegative().optional().describe('source sequence number, orders events within one millisecond'),
  source: z.string().max(128).optional().describe('where the event came from, e.g. binance-usdm, bitget, sim'),
};
const marketed = {
  ...base,
  market: z.string().min(1).max(64).describe('market symbol, e.g. BTCUSDT or BTCUSDT-PERP'),
  marketKind: MarketKind.optional(),
};
const account = { accountId: id.describe('exchange account (user or sub-account) id') };
const priceLevel = z.tuple([unsignedDecimal, unsignedDecimal]).describe('[price, size]; size 0 removes the level');

// ---------------------------------------------------------------- orders
export const OrderType = z.enum(['limit', 'market', 'stop', 'stop_limit', 'take_profit', 'take_profit_limit']);
export const TimeInForce = z.enum(['GTC', 'IOC', 'FOK', 'GTD']);
export const SelfTradePrevention = z.enum(['none', 'cancel_taker', 'cancel_maker', 'cancel_both', 'decrement']);

export const OrderPlaced = z.object({
  ...marketed,
  ...account,
  type: z.literal('order.placed'),
  orderId: id,
  clientOrderId: z.string().max(128).optional(),
  side: Side,
  orderType: OrderType,
  timeInForce: TimeInForce.default('GTC'),
  postOnly: z.boolean().optional(),
  reduceOnly: z.boolean().optional(),
  price: positiveDecimal.optional().describe('limit price; absent for market orders'),
  stopPrice: positiveDecimal.optional(),
  size: positiveDecimal,
  leverage: z.number().positive().max(1000).optional(),
  marginMode: z.enum(['cross', 'isolated']).optional(),
  stp: SelfTradePrevention.optional(),
  apiKeyId: z.string().max(128).optional(),
  ip: z.string().max(64).optional(),
});
export const OrderAmended = z.object({
  ...marketed,
  ...account,
  type: z.literal('order.amended'),
  orderId: id,
  price: positiveDecimal.optional(),
  size: positiveDecimal.optional().describe('new total size'),
  prevPrice: positiveDecimal.optional(),
  prevSize: positiveDecimal.optional(),
});
export const CancelReason = z.enum(['user', 'system', 'stp', 'ioc', 'fok', 'post_only', 'liquidation', 'admin']);
export const OrderCancelled = z.object({
  ...marketed,
  ...account,
  type: z.literal('order.cancelled'),
  orderId: id,
  reason: CancelReason.default('user'),
  remainingSize: unsignedDecimal.optional(),
});
export const OrderRejected = z.object({
  ...marketed,
  ...account,
  type: z.literal('order.rejected'),
  orderId: id,
  reason: z.string().max(256),
});
export const OrderExpired = z.object({
  ...marketed,
  ...account,
  type: z.literal('order.expired'),
  orderId: id,
  remainingSize: unsignedDecimal.optional(),
});

// ---------------------------------------------------------------- trades
export const Trade = z.object({
  ...marketed,
  type: z.literal('trade'),
  tradeId: id,
  price: positiveDecimal,
  size: positiveDecimal,
  aggressor: z.enum(['buy', 'sell', 'unknown']).describe('side of the taker'),
  makerOrderId: id.optional(),
  takerOrderId: id.optional(),
  makerAccountId: id.optional(),
  takerAccountId: id.optional(),
  selfTrade: z.boolean().optional(),
});

// ---------------------------------------------------------------- market data
export const Bbo = z.object({
  ...marketed,
  type: z.literal('bbo'),
  bidPrice: unsignedDecimal,
  bidSize: unsignedDecimal,
  askPrice: unsignedDecimal,
  askSize: unsignedDecimal,
  updateId: z.number().int().nonnegative().optional(),
});
export const Depth = z.object({
  ...marketed,
  type: z.literal('depth'),
  snapshot: z.boolean().default(false).describe('true replaces the book; false applies a diff'),
  bids: z.array(priceLevel),
  asks: z.array(priceLevel),
  firstUpdateId: z.number().int().nonnegative().optional(),
  lastUpdateId: z.number().int().nonnegative().optional(),
  prevUpdateId: z.number().int().nonnegative().optional(),
  checksum: z.number().int().optional(),
});
export const BookStatus = z.object({
  ...marketed,
  type: z.literal('book.status'),
  status: z.enum(['reliable', 'unreliable']),
  reason: z.string().max(512),
  expected: z.number().int().optional(),
  received: z.number().int().optional(),
});
export const MarkPrice = z.object({
  ...marketed,
  type: z.literal('mark_price'),
  markPrice: positiveDecimal,
  indexPrice: positiveDecimal.optional(),
  fundingRate: decimal.optional(),
  nextFundingTime: ts.optional(),
});
export const IndexPrice = z.object({
  ...marketed,
  type: z.literal('index_price'),
  price: positiveDecimal,
  components: z.array(z.object({ venue: z.string(), market: z.string(), price: positiveDecimal, weight: z.number() })).optional(),
});
export const Funding = z.object({
  ...marketed,
  type: z.literal('funding'),
  rate: decimal,
  fundingTime: ts,
});
export const Settlement = z.object({
  ...marketed,
  type: z.literal('settlement'),
  price: positiveDecimal,
  settlementTime: ts,
});
export const Liquidation = z.object({
  ...marketed,
  type: z.literal('liquidation'),
  accountId: id.optional(),
  orderId: id.optional(),
  side: Side,
  price: positiveDecimal,
  size: positiveDecimal,
});
export const Ticker = z.object({
  ...marketed,
  type: z.literal('ticker'),
  last: positiveDecimal,
  open24h: unsignedDecimal.optional(),
  high24h: unsignedDecimal.optional(),
  low24h: unsignedDecimal.optional(),
  baseVolume24h: unsignedDecimal.optional(),
  quoteVolume24h: unsignedDecimal.optional(),
  bidPrice: unsignedDecimal.optional(),
  askPrice: unsignedDecimal.optional(),
});
export const Candle = z.object({
  ...marketed,
  type: z.literal('candle'),
  interval: z.string().max(16),
  openTime: ts,
  open: positiveDecimal,
  high: positiveDecimal,
  low: positiveDecimal,
  close: positiveDecimal,
  volume: unsignedDecimal,
});

// ---------------------------------------------------------------- account activity
export const AccountOpened = z.object({
  ...base,
  ...account,
  type: z.literal('account.opened'),
  country: z.string().max(8).optional(),
  kycLevel: z.number().int().min(0).max(9).optional(),
  referrerId: id.optional(),
});
export const Login = z.object({
  ...base,
  ...account,
  type: z.literal('login'),
  sessionId: id,
  deviceId: z.string().max(256).describe('device fingerprint'),
  ip: z.string().max(64),
  userAgent: z.string().max(512).optional(),
  country: z.string().max(8).optional(),
  success: z.boolean().default(true),
});
export const Logout = z.object({ ...base, ...account, type: z.literal('logout'), sessionId: id });
export const ApiKeyUsed = z.object({
  ...base,
  ...account,
  type: z.literal('api_key.used'),
  apiKeyId: id,
  ip: z.string().max(64),
  endpoint: z.string().max(256).optional(),
  requests: z.number().int().positive().default(1),
});
const chainMove = {
  ...base,
  ...account,
  asset: z.string().min(1).max(32),
  chain: z.string().min(1).max(32),
  address: z.string().min(1).max(256),
  txHash: z.string().max(256).optional(),
  amount: positiveDecimal,
  status: z.enum(['pending', 'completed', 'failed', 'rejected']).default('completed'),
};
export const Deposit = z.object({ ...chainMove, type: z.literal('deposit') });
export const Withdrawal = z.object({ ...chainMove, type: z.literal('withdrawal') });
export const InternalTransfer = z.object({
  ...base,
  type: z.literal('transfer.internal'),
  fromAccountId: id,
  toAccountId: id,
  asset: z.string().min(1).max(32),
  amount: positiveDecimal,
});
export const BalanceSnapshot = z.object({
  ...base,
  ...account,
  type: z.literal('balance.snapshot'),
  balances: z.array(z.object({ asset: z.string().min(1).max(32), free: unsignedDecimal, locked: unsignedDecimal.default('0') })),
});
export const PositionSnapshot = z.object({
  ...marketed,
  ...account,
  type: z.literal('position.snapshot'),
  size: decimal.describe('signed: positive long, negative short'),
  entryPrice: unsignedDecimal,
  leverage: z.number().positive().optional(),
  marginMode: z.enum(['cross', 'isolated']).optional(),
  unrealizedPnl: decimal.optional(),
  liquidationPrice: unsignedDecimal.optional(),
});
export const BonusGranted = z.object({
  ...base,
  ...account,
  type: z.literal('bonus.granted'),
  campaignId: id,
  asset: z.string().min(1).max(32),
  amount: positiveDecimal,
});

// ---------------------------------------------------------------- financial products
const loanBase = { ...base, ...account, loanId: id, asset: z.string().min(1).max(32) };
export const LoanBorrow = z.object({
  ...loanBase,
  type: z.literal('loan.borrow'),
  amount: positiveDecimal,
  collateralAsset: z.string().min(1).max(32).optional(),
  collateralAmount: unsignedDecimal.optional(),
  apr: decimal.optional(),
  ltv: decimal.optional(),
  product: z.enum(['margin', 'collateral_loan', 'credit_line']).default('collateral_loan'),
});
export const LoanRepay = z.object({ ...loanBase, type: z.literal('loan.repay'), amount: positiveDecimal, interest: unsignedDecimal.optional() });
export const LoanLiquidation = z.object({
  ...loanBase,
  type: z.literal('loan.liquidation'),
  debtAmount: unsignedDecimal,
  collateralAsset: z.string().min(1).max(32),
  collateralSold: unsignedDecimal,
  price: positiveDecimal.optional(),
});
export const CollateralChanged = z.object({
  ...base,
  ...account,
  type: z.literal('collateral.changed'),
  loanId: id.optional(),
  asset: z.string().min(1).max(32),
  delta: decimal.describe('signed change in collateral amount'),
  reason: z.enum(['add', 'remove', 'margin_call', 'liquidation', 'revaluation']).default('add'),
});
const earnBase = { ...base, ...account, productId: id, asset: z.string().min(1).max(32), amount: positiveDecimal };
export const EarnSubscribe = z.object({ ...earnBase, type: z.literal('earn.subscribe'), apy: decimal.optional(), lockDays: z.number().int().nonnegative().optional() });
export const EarnRedeem = z.object({ ...earnBase, type: z.literal('earn.redeem'), early: z.boolean().optional() });
export const StructuredSubscribe = z.object({
  ...earnBase,
  type: z.literal('structured.subscribe'),
  productType: z.enum(['dual_investment', 'shark_fin', 'snowball', 'principal_protected', 'other']).default('other'),
  strike: positiveDecimal.optional(),
  expiry: ts.optional(),
});

export const ExchangeEvent = z.discriminatedUnion('type', [
  OrderPlaced, OrderAmended, OrderCancelled, OrderRejected, OrderExpired,
  Trade,
  Bbo, Depth, BookStatus, MarkPrice, IndexPrice, Funding, Settlement, Liquidation, Ticker, Candle,
  AccountOpened, Login, Logout, ApiKeyUsed, Deposit, Withdrawal, InternalTransfer, BalanceSnapshot, PositionSnapshot, BonusGranted,
  LoanBorrow, LoanRepay, LoanLiquidation, CollateralChanged, EarnSubscribe, EarnRedeem, StructuredSubscribe,
]);

export type ExchangeEvent = z.infer<typeof ExchangeEvent>;
/** What a producer writes: defaults may be omitted. */
export type ExchangeEventInput = z.input<typeof ExchangeEvent>;
export type EventType = ExchangeEvent['type'];
export type EventOf<T extends EventType> = Extract<ExchangeEvent, { type: T }>;
export type Side = z.infer<typeof Side>;

export const EVENT_TYPES = ExchangeEvent.options.map((o) => o.shape.type.value) as EventType[];

/** The market an event belongs to, or '-' for account-level events. */
export function marketOf(e: ExchangeEvent): string {
  return 'market' in e && typeof e.market === 'string' ? e.market : '-';
}
