import type { ExchangeEvent, EventOf } from '../events/schema.js';
import type { EngineOrder, OrderKind, OrderRequest, OrderSide, StpMode, TimeInForce } from '../market/matching-engine.js';
import type { Episode } from './abuse/episode.js';
import type { SimConfig } from './config.js';
import { EventOut, type FillListener } from './events-out.js';
import { CHAINS, Ids } from './ids.js';
import { Asset, DEFAULT_ASSETS, DEFAULT_MARKETS, SimMarket } from './markets.js';
import { Population, type Account, type Device, type Position } from './population.js';
import { Rng } from './rng.js';
import { Scheduler } from './scheduler.js';

export interface PlaceOpts {
  postOnly?: boolean;
  reduceOnly?: boolean;
  stp?: StpMode;
  stopPrice?: number;
  expireAt?: number;
  label?: Episode;
  /** Send through the account's API key (if it has one) rather than a logged-in session. */
  api?: boolean;
}

/** Float amount -> canonical decimal string with at most `decimals` places ('' if it rounds to zero). */
export function formatAmount(x: number, decimals: number): string {
  const s = Math.abs(x).toFixed(decimals);
  let end = s.length;
  if (decimals > 0) {
    while (s.charCodeAt(end - 1) === 48) end--;
    if (s.charCodeAt(end - 1) === 46) end--;
  }
  const out = s.slice(0, end);
  if (out === '0') return '';
  return x < 0 ? `-${out}` : out;
}

/**
 * Everything the agents and injectors share: event time, the scheduler, the id spaces, the
 * markets and the population, plus helpers that place orders and emit account-level events with
 * one consistent shape per event type. It is also the fill listener of every market: positions,
 * balances, price impact and label attribution are updated here, once per trade.
 */
export class SimContext implements FillListener {
  readonly start: number;
  readonly end: number;
  readonly sched: Scheduler;
  readonly out: EventOut;
  readonly root: Rng;
  readonly ids: Ids;
  readonly assets: Asset[];
  readonly markets: SimMarket[];
  readonly pop: Population;
  readonly episodes: Episode[] = [];
  /** Positions that may be non-zero, per market index. */
  readonly perpPositions: Position[][];
  /**
   * Per market: the highest long and lowest short liquidation price since the last full check, so
   * the venue scans positions only when the mark could have reached one.
   */
  readonly liqLongMax: number[];
  readonly liqShortMin: number[];
  private readonly sessionRng: Rng;
  private readonly req: OrderRequest = {
    orderId: undefined, accountId: '', side: 'buy', type: 'limit', tif: 'GTC', price: undefined, stopPrice: undefined, size: 0,
    postOnly: undefined, reduceOnly: undefined, stp: undefined, expireAt: undefined, clientOrderId: undefined, apiKeyId: undefined,
    ip: undefined, leverage: undefined, marginMode: undefined, owner: undefined, label: undefined,
  };
  private readonly assetIndex = new Map<string, number>();
  private readonly marketIndex = new Map<string, SimMarket>();

  constructor(
    readonly cfg: SimConfig,
    consumer: (e: ExchangeEvent) => void,
    start: number,
  ) {
    this.start = start;
    this.end = start + cfg.durationMs;
    this.root = new Rng(cfg.seed, 0x51);
    this.sched = new Scheduler(start);
    this.out = new EventOut(this.root.fork('ids:sequences'), consumer);
    this.ids = new Ids(this.root.fork('ids'));
    this.sessionRng = this.root.fork('sessions');
    const marketRng = this.root.fork('markets');
    this.assets = DEFAULT_ASSETS.map((s, i) => new Asset(i, s, marketRng));
    this.assets.forEach((a, i) => this.assetIndex.set(a.symbol, i));
    this.markets = DEFAULT_MARKETS.map((spec, i) => new SimMarket(i, spec, this.assets[this.assetIndex.get(spec.base)!], this.out, this));
    for (const m of this.markets) this.marketIndex.set(m.symbol, m);
    for (const m of this.markets) {
      if (m.isPerp) {
        const s = this.marketIndex.get(`${m.spec.base}USDT`) ?? null;
        m.spot = s;
        if (s) s.perp = m;
      }
    }
    this.perpPositions = this.markets.map(() => []);
    this.liqLongMax = this.markets.map(() => 0);
    this.liqShortMin = this.markets.map(() => Infinity);
    this.pop = new Population({ rng: this.root.fork('population'), ids: this.ids, assetCount: this.assets.length, marketCount: this.markets.length });
  }

  asset(symbol: string): number {
    const i = this.assetIndex.get(symbol);
    if (i === undefined) throw new Error(`unknown asset ${symbol}`);
    return i;
  }

  market(symbol: string): SimMarket {
    const m = this.marketIndex.get(symbol);
    if (!m) throw new Error(`unknown market ${symbol}`);
    return m;
  }

  get spotMarkets(): SimMarket[] {
    return this.markets.filter((m) => !m.isPerp);
  }

  get perps(): SimMarket[] {
    return this.markets.filter((m) => m.isPerp);
  }

  get thinMarkets(): SimMarket[] {
    return this.markets.filter((m) => m.spec.thin);
  }

  // ------------------------------------------------------------------ trading

  /**
   * Places an order for an account (session or API, with its IP) and returns the engine's record.
   * The request object is reused: the engine copies what it keeps before returning.
   */
  place(m: SimMarket, a: Account, side: OrderSide, type: OrderKind, tif: TimeInForce, price: number, lots: number, ts: number, opts?: PlaceOpts): EngineOrder {
    const api = opts !== undefined && opts.api === true && a.apiKeyId !== undefined;
    this.ensureSession(a, ts, api);
    const req = this.req;
    req.accountId = a.id;
    req.side = side;
    req.type = type;
    req.tif = tif;
    req.price = price > 0 ? price : undefined;
    req.size = lots;
    req.apiKeyId = api ? a.apiKeyId : undefined;
    req.ip = api ? a.apiIp : a.sessionIp;
    req.leverage = m.isPerp ? a.leverage : undefined;
    req.marginMode = m.isPerp ? (a.leverage >= 20 ? 'isolated' : 'cross') : undefined;
    req.owner = a;
    if (opts === undefined) {
      req.stopPrice = req.postOnly = req.reduceOnly = req.expireAt = req.label = undefined;
      req.stp = a.stp;
    } else {
      req.stopPrice = opts.stopPrice;
      req.postOnly = opts.postOnly;
      req.reduceOnly = opts.reduceOnly;
      req.stp = opts.stp ?? a.stp;
      req.expireAt = opts.expireAt;
      req.label = opts.label;
    }
    const o = m.engine.submit(req, Math.floor(ts));
    req.owner = req.label = undefined;
    if (opts !== undefined && opts.label !== undefined) opts.label.addOrder(o, m.symbol, Math.floor(ts));
    return o;
  }

  onFill(mi: number, maker: EngineOrder, taker: EngineOrder, price: number, lots: number, tradeId: string, ts: number): void {
    const m = this.markets[mi];
    const buy = taker.side === 'buy';
    const ma = maker.owner as Account;
    const ta = taker.owner as Account;
    // Makers taking stale quotes trade toward the reference price; only others' flow moves it.
    if (ta.role !== 'hft' && ta.role !== 'maker') m.onTake(buy, price, lots);
    if (m.isPerp) {
      this.applyPerp(ma, m, !buy, price, lots);
      this.applyPerp(ta, m, buy, price, lots);
    } else {
      const base = m.asset.index;
      const qty = lots * m.lotValue;
      const notional = price * m.tickValue * qty;
      const buyer = buy ? ta : ma;
      const seller = buy ? ma : ta;
      buyer.balances[base] += qty;
      buyer.balances[0] -= notional;
      seller.balances[base] -= qty;
      seller.balances[0] += notional;
      buyer.dirty = true;
      seller.dirty = true;
    }
    const ml = maker.label;
    const tl = taker.label;
    if (ml !== undefined) (ml as Episode).onTrade(tradeId, ts, maker, taker);
    if (tl !== undefined && tl !== ml) (tl as Episode).onTrade(tradeId, ts, maker, taker);
  }

  private applyPerp(a: Account, m: SimMarket, buy: boolean, price: number, lots: number): void {
    const p = this.pop.position(a, m.index);
    const px = price * m.tickValue;
    const q = buy ? lots : -lots;
    if (p.lots === 0 || p.lots > 0 === q > 0) {
      const nl = p.lots + q;
      p.entry = (p.entry * Math.abs(p.lots) + px * lots) / Math.abs(nl);
      p.lots = nl;
    } else {
      const close = Math.min(Math.abs(p.lots), lots);
      const pnl = (px - p.entry) * close * m.lotValue * (p.lots > 0 ? 1 : -1);
      p.realized += pnl;
      a.balances[0] += pnl;
      const before = p.lots;
      p.lots += q;
      if (p.lots === 0) p.entry = 0;
      else if (p.lots > 0 !== before > 0) p.entry = px;
    }
    const liq = (p.liq = liquidationPrice(p));
    if (liq > 0) {
      if (p.lots > 0) {
        if (liq > this.liqLongMax[m.index]) this.liqLongMax[m.index] = liq;
      } else if (liq < this.liqShortMin[m.index]) this.liqShortMin[m.index] = liq;
    }
    if (!p.listed && p.lots !== 0) {
      p.listed = true;
      this.perpPositions[m.index].push(p);
    }
    a.dirty = true;
  }

  // ------------------------------------------------------------------ sessions

  /** Logs the account in (emitting `login`) unless it has a live session or trades through its API key. */
  ensureSession(a: Account, ts: number, api: boolean): void {
    if (api) {
      a.apiRequests++;
      return;
    }
    if (ts < a.sessionUntil) return;
    const rng = this.sessionRng;
    const device = a.devices.length === 1 || rng.chance(0.6) ? a.devices[0] : rng.pick(a.devices);
    this.login(a, ts, device, this.pickIp(a, device));
  }

  private pickIp(a: Account, device: Device): string {
    const rng = this.sessionRng;
    if (a.ips.length > 2 && rng.chance(0.5)) return rng.pick(a.ips.slice(2));
    if ((device.kind === 'ios' || device.kind === 'android') && a.ips.length > 1) return a.ips[1];
    return a.ips[0];
  }

  login(a: Account, ts: number, device: Device, ip: string, sessionMs?: number): void {
    a.sessionId = this.ids.session();
    a.sessionDevice = device;
    a.sessionIp = ip;
    a.sessionUntil = ts + (sessionMs ?? this.sessionRng.lognormal(40 * 60_000, 0.7));
    const seq = this.out.nextSeq();
    const e: EventOf<'login'> = {
      type: 'login', id: this.out.eventId(seq), ts: Math.floor(ts), seq, accountId: a.id, sessionId: a.sessionId,
      deviceId: device.id, ip, userAgent: device.userAgent, country: a.country, success: true,
    };
    this.out.emit(e);
  }

  // ------------------------------------------------------------------ account events

  private head(ts: number): { id: string; ts: number; seq: number } {
    const seq = this.out.nextSeq();
    return { id: this.out.eventId(seq), ts: Math.floor(ts), seq };
  }

  amount(asset: number, x: number): string {
    return formatAmount(x, this.assets[asset].spec.decimals);
  }

  accountOpened(a: Account, ts: number): void {
    a.openedAt = Math.floor(ts);
    this.out.emit({ type: 'account.opened', ...this.head(ts), accountId: a.id, country: a.country, kycLevel: a.kycLevel, referrerId: a.referrerId });
  }

  /** The account's own (stable) external wallet address on a chain, where its withdrawals go. */
  payoutAddress(a: Account, chain: string): string {
    return this.addressFor(a, chain, chain);
  }

  private addressFor(a: Account, key: string, chain: string): string {
    let addr = a.payoutAddresses.get(key);
    if (addr === undefined) {
      addr = this.ids.address(chain);
      a.payoutAddresses.set(key, addr);
    }
    return addr;
  }

  chainFor(asset: number, rng: Rng): string {
    const sym = this.assets[asset].symbol;
    return rng.pick(CHAINS[sym] ?? ['ETH']);
  }

  deposit(a: Account, ts: number, asset: number, x: number, chain: string, status: 'completed' | 'pending' | 'failed' = 'completed'): boolean {
    const amount = this.amount(asset, x);
    if (amount === '') return false;
    if (status === 'completed') a.balances[asset] += Number(amount);
    a.dirty = true;
    this.out.emit({
      type: 'deposit', ...this.head(ts), accountId: a.id, asset: this.assets[asset].symbol, chain,
      address: this.depositAddress(a, chain), txHash: this.ids.txHash(chain), amount, status,
    });
    return true;
  }

  /** Exchange-side deposit address of the account (stable per chain). */
  private depositAddress(a: Account, chain: string): string {
    return this.addressFor(a, `deposit:${chain}`, chain);
  }

  withdrawal(a: Account, ts: number, asset: number, x: number, chain: string, address: string, status: 'completed' | 'pending' | 'rejected' = 'completed'): boolean {
    const amount = this.amount(asset, x);
    if (amount === '') return false;
    if (status !== 'rejected') a.balances[asset] -= Number(amount);
    a.dirty = true;
    this.out.emit({
      type: 'withdrawal', ...this.head(ts), accountId: a.id, asset: this.assets[asset].symbol, chain, address,
      txHash: status === 'rejected' ? undefined : this.ids.txHash(chain), amount, status,
    });
    return true;
  }

  transfer(from: Account, to: Account, ts: number, asset: number, x: number): boolean {
    const amount = this.amount(asset, x);
    if (amount === '') return false;
    from.balances[asset] -= Number(amount);
    to.balances[asset] += Number(amount);
    from.dirty = to.dirty = true;
    this.out.emit({ type: 'transfer.internal', ...this.head(ts), fromAccountId: from.id, toAccountId: to.id, asset: this.assets[asset].symbol, amount });
    return true;
  }

  bonus(a: Account, ts: number, campaignId: string, x: number): void {
    const amount = this.amount(0, x);
    if (amount === '') return;
    a.balances[0] += Number(amount);
    a.dirty = true;
    this.out.emit({ type: 'bonus.granted', ...this.head(ts), accountId: a.id, campaignId, asset: 'USDT', amount });
  }

  loanBorrow(
    a: Account, ts: number, loanId: string, asset: number, x: number,
    product: 'margin' | 'collateral_loan' | 'credit_line', collateral?: { asset: number; amount: number; ltv: number; apr: number },
  ): boolean {
    const amount = this.amount(asset, x);
    if (amount === '') return false;
    a.balances[asset] += Number(amount);
    a.dirty = true;
    this.out.emit({
      type: 'loan.borrow', ...this.head(ts), accountId: a.id, loanId, asset: this.assets[asset].symbol, amount,
      collateralAsset: collateral ? this.assets[collateral.asset].symbol : undefined,
      collateralAmount: collateral ? this.amount(collateral.asset, collateral.amount) || '0' : undefined,
      apr: collateral ? formatAmount(collateral.apr, 4) || '0' : undefined,
      ltv: collateral ? formatAmount(collateral.ltv, 4) || '0' : undefined,
      product,
    });
    return true;
  }

  loanRepay(a: Account, ts: number, loanId: string, asset: number, x: number, interest: number): boolean {
    const amount = this.amount(asset, x);
    if (amount === '') return false;
    a.balances[asset] -= Number(amount) + interest;
    a.dirty = true;
    this.out.emit({ type: 'loan.repay', ...this.head(ts), accountId: a.id, loanId, asset: this.assets[asset].symbol, amount, interest: this.amount(asset, interest) || '0' });
    return true;
  }

  /**
   * The venue liquidates a loan: `sold` collateral goes to cover `debt` (plus the penalty), so it
   * leaves the loan without returning to the account (`collateral.changed`, reason liquidation).
   */
  loanLiquidation(a: Account, ts: number, loanId: string, asset: number, debt: number, collateral: number, sold: number, price: string | undefined): void {
    const debtAmount = this.amount(asset, debt) || '0';
    const collateralSold = this.amount(collateral, sold) || '0';
    const head = this.head(ts);
    this.out.emit({
      type: 'loan.liquidation', ...head, accountId: a.id, loanId, asset: this.assets[asset].symbol, debtAmount,
      collateralAsset: this.assets[collateral].symbol, collateralSold, price,
    });
    if (collateralSold !== '0') {
      a.dirty = true;
      this.out.emit({ type: 'collateral.changed', ...this.head(ts), accountId: a.id, loanId, asset: this.assets[collateral].symbol, delta: `-${collateralSold}`, reason: 'liquidation' });
    }
  }

  collateralChanged(a: Account, ts: number, loanId: string | undefined, asset: number, delta: number, reason: 'add' | 'remove' | 'margin_call' | 'liquidation' | 'revaluation'): void {
    const d = this.amount(asset, delta);
    if (d === '') return;
    a.balances[asset] -= delta;
    a.dirty = true;
    this.out.emit({ type: 'collateral.changed', ...this.head(ts), accountId: a.id, loanId, asset: this.assets[asset].symbol, delta: d, reason });
  }

  earnSubscribe(a: Account, ts: number, productId: string, asset: number, x: number, apy: number, lockDays: number): boolean {
    const amount = this.amount(asset, x);
    if (amount === '') return false;
    a.balances[asset] -= Number(amount);
    a.dirty = true;
    this.out.emit({ type: 'earn.subscribe', ...this.head(ts), accountId: a.id, productId, asset: this.assets[asset].symbol, amount, apy: formatAmount(apy, 4) || '0', lockDays });
    return true;
  }

  earnRedeem(a: Account, ts: number, productId: string, asset: number, x: number, early: boolean): boolean {
    const amount = this.amount(asset, x);
    if (amount === '') return false;
    a.balances[asset] += Number(amount);
    a.dirty = true;
    this.out.emit({ type: 'earn.redeem', ...this.head(ts), accountId: a.id, productId, asset: this.assets[asset].symbol, amount, early });
    return true;
  }

  structuredSubscribe(a: Account, ts: number, productId: string, asset: number, x: number, strike: string, expiry: number): boolean {
    const amount = this.amount(asset, x);
    if (amount === '') return false;
    a.balances[asset] -= Number(amount);
    a.dirty = true;
    this.out.emit({
      type: 'structured.subscribe', ...this.head(ts), accountId: a.id, productId, asset: this.assets[asset].symbol, amount,
      productType: 'dual_investment', strike, expiry,
    });
    return true;
  }

  apiKeyUsed(a: Account, ts: number, requests: number): void {
    if (a.apiKeyId === undefined || requests <= 0) return;
    this.out.emit({ type: 'api_key.used', ...this.head(ts), accountId: a.id, apiKeyId: a.apiKeyId, ip: a.apiIp, endpoint: '/api/v3/order', requests });
  }

  balanceSnapshot(a: Account, ts: number): void {
    const balances: { asset: string; free: string; locked: string }[] = [];
    for (let i = 0; i < a.balances.length; i++) {
      const v = a.balances[i];
      if (v <= 0) continue;
      const free = this.amount(i, v);
      if (free !== '') balances.push({ asset: this.assets[i].symbol, free, locked: '0' });
    }
    a.dirty = false;
    this.out.emit({ type: 'balance.snapshot', ...this.head(ts), accountId: a.id, balances });
  }

  positionSnapshot(p: Position, mark: number, ts: number): void {
    const m = this.markets[p.market];
    const size = m.engine.sizes.format(p.lots);
    const upnl = (mark - p.entry) * p.lots * m.lotValue;
    const liq = liquidationPrice(p);
    this.out.emit({
      type: 'position.snapshot', ...this.head(ts), market: m.symbol, marketKind: 'perpetual', accountId: p.account.id,
      size, entryPrice: formatAmount(p.entry, m.engine.prices.scale + 2) || '0', leverage: p.leverage,
      marginMode: p.leverage >= 20 ? 'isolated' : 'cross', unrealizedPnl: formatAmount(upnl, 2) || '0',
      liquidationPrice: liq > 0 ? formatAmount(liq, m.engine.prices.scale) || '0' : undefined,
    } as EventOf<'position.snapshot'>);
  }
}

/** Maintenance margin rate used for liquidations. */
export const MAINTENANCE_MARGIN = 0.005;

/** Isolated-margin style liquidation price of a position (0 if it cannot be liquidated). */
export function liquidationPrice(p: Position): number {
  if (p.lots === 0 || p.leverage <= 1) return 0;
  const f = 1 / p.leverage - MAINTENANCE_MARGIN;
  return p.lots > 0 ? p.entry * (1 - f) : p.entry * (1 + f);
}
