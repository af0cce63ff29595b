import type { StpMode } from '../market/matching-engine.js';
import type { PopulationConfig } from './config.js';
import { COUNTRIES, COUNTRY_WEIGHTS, USER_AGENTS, type Ids } from './ids.js';
import { AliasTable, type Rng } from './rng.js';

/**
 * Who trades on the simulated exchange: accounts with countries, KYC levels, devices, IPs, API
 * keys, balances and perpetual positions. Roles are the simulator's private knowledge; nothing
 * about an account's role is visible in its id or events except through its behaviour.
 */
export type Role = 'maker' | 'hft' | 'retail' | 'algo' | 'whale' | 'momentum' | 'borrower' | 'saver' | 'signup' | 'sybil';

export interface Device {
  id: string;
  kind: 'web' | 'ios' | 'android' | 'api';
  userAgent: string;
}

export class Position {
  /** Signed lots: positive long. */
  lots = 0;
  entry = 0;
  realized = 0;
  /** Liquidation price (0: none), kept current on every fill. */
  liq = 0;
  listed = false;
  constructor(
    readonly account: Account,
    readonly market: number,
    public leverage: number,
  ) {}
}

export class Account {
  openedAt = -1;
  referrerId: string | undefined = undefined;
  kycLevel = 1;
  readonly devices: Device[] = [];
  readonly ips: string[] = [];
  apiKeyId: string | undefined = undefined;
  apiIp = '';
  sessionId = '';
  sessionDevice: Device | null = null;
  sessionIp = '';
  sessionUntil = -Infinity;
  /** Balances by asset index (floats: statistics and snapshots only). */
  balances: Float64Array;
  /** Perpetual positions by market index. */
  readonly positions: (Position | null)[];
  leverage = 1;
  /** Relative trading frequency. */
  activity = 1;
  /** The account's own typical order notional, as a multiple of the market's median. */
  sizeScale = 1;
  stp: StpMode | undefined = undefined;
  /** Changed since its last balance snapshot. */
  dirty = false;
  /** API requests since the last api_key.used report. */
  apiRequests = 0;
  /** Busy in an injected episode until this time (injectors avoid double-booking). */
  busyUntil = -Infinity;
  /** Master account for sub-accounts (legitimate internal transfers). */
  master: Account | null = null;
  readonly payoutAddresses = new Map<string, string>();

  constructor(
    readonly id: string,
    readonly role: Role,
    readonly country: string,
    assets: number,
    markets: number,
  ) {
    this.balances = new Float64Array(assets);
    this.positions = new Array<Position | null>(markets).fill(null);
  }

  get usesApi(): boolean {
    return this.apiKeyId !== undefined;
  }
}

/** A weighted pool of accounts to draw actors from; can grow (new sign-ups). */
export class AccountPool {
  readonly accounts: Account[] = [];
  private alias: AliasTable | null = null;
  constructor(readonly name: string) {}

  add(a: Account): void {
    this.accounts.push(a);
    this.alias = null;
  }

  draw(rng: Rng): Account {
    if (this.alias === null) this.alias = new AliasTable(this.accounts.map((a) => a.activity));
    return this.accounts[this.alias.draw(rng)];
  }

  get size(): number {
    return this.accounts.length;
  }
}

export interface PopulationDeps {
  rng: Rng;
  ids: Ids;
  assetCount: number;
  marketCount: number;
}

const LEVERAGES = [2, 3, 5, 10, 20, 25, 50, 75, 100];
const LEVERAGE_WEIGHTS = [10, 8, 18, 25, 14, 8, 10, 3, 4];

export class Population {
  readonly all: Account[] = [];
  readonly byId = new Map<string, Account>();
  readonly makers: Account[] = [];
  readonly hft: Account[] = [];
  readonly retail: Account[] = [];
  readonly algos: Account[] = [];
  readonly whales: Account[] = [];
  readonly momentum: Account[] = [];
  readonly borrowers: Account[] = [];
  readonly savers: Account[] = [];
  /** Accounts that trade at all (retail share, algos), drawn per market. */
  readonly traders = new AccountPool('traders');
  readonly perpTraders = new AccountPool('perp');
  readonly newcomers = new AccountPool('newcomers');
  private readonly countryTable = new AliasTable(COUNTRY_WEIGHTS);

  constructor(private readonly d: PopulationDeps) {}

  country(): string {
    return COUNTRIES[this.countryTable.draw(this.d.rng)];
  }

  device(kind?: Device['kind']): Device {
    const rng = this.d.rng;
    const k = kind ?? (rng.pick(['web', 'web', 'ios', 'android', 'android'] as const) as Device['kind']);
    return { id: this.d.ids.device(), kind: k, userAgent: rng.pick(USER_AGENTS[k]) };
  }

  create(role: Role, country = this.country()): Account {
    const { rng, ids } = this.d;
    const a = new Account(ids.account(), role, country, this.d.assetCount, this.d.marketCount);
    a.kycLevel = role === 'maker' || role === 'hft' || role === 'whale' ? 3 : rng.chance(0.7) ? 2 : 1;
    a.activity = rng.pareto(1, 1.6);
    a.sizeScale = rng.lognormal(1, 0.8);
    const nDevices = role === 'maker' || role === 'hft' ? 1 : rng.int(1, rng.chance(0.3) ? 3 : 2);
    for (let i = 0; i < nDevices; i++) a.devices.push(this.device(role === 'maker' || role === 'hft' ? 'web' : undefined));
    a.ips.push(ids.ip(country));
    if (rng.chance(0.6)) a.ips.push(ids.ip(country));
    if (role === 'maker' || role === 'hft' || role === 'algo' || (role === 'retail' && rng.chance(0.08)) || role === 'whale' || role === 'momentum') {
      a.apiKeyId = ids.apiKey();
      a.apiIp = role === 'retail' ? a.ips[0] : ids.ip(rng.chance(0.5) ? country : rng.pick(['SG', 'JP', 'DE', 'US']));
    }
    a.leverage = role === 'maker' || role === 'hft' ? 1 : role === 'whale' || role === 'momentum' ? rng.pick([2, 3, 5]) : LEVERAGES[rng.weightedIndex(LEVERAGE_WEIGHTS)];
    this.all.push(a);
    this.byId.set(a.id, a);
    return a;
  }

  /** Builds the standing population; `assetPrices` (USDT, by asset index) value the initial holdings. */
  build(cfg: PopulationConfig, assetPrices: number[]): void {
    const rng = this.d.rng;
    const fund = (a: Account, usdt: number, spread: number) => {
      a.balances[0] = usdt;
      for (let i = 1; i < assetPrices.length; i++) {
        if (rng.chance(i <= 2 ? 0.7 : 0.35)) a.balances[i] = (usdt * spread * rng.float()) / assetPrices[i];
      }
    };
    for (let i = 0; i < cfg.marketMakers; i++) {
      const a = this.create('maker', rng.pick(['SG', 'GB', 'US', 'JP']));
      a.stp = 'cancel_maker';
      fund(a, 4e7, 1);
      for (let k = 1; k < assetPrices.length; k++) a.balances[k] = 2e7 / assetPrices[k];
      this.makers.push(a);
    }
    for (let i = 0; i < cfg.hftMakers; i++) {
      const a = this.create('hft', rng.pick(['SG', 'JP', 'GB']));
      a.stp = 'cancel_taker';
      fund(a, 1e7, 1);
      for (let k = 1; k < assetPrices.length; k++) a.balances[k] = 5e6 / assetPrices[k];
      this.hft.push(a);
    }
    for (let i = 0; i < cfg.algos; i++) {
      const a = this.create('algo');
      // Some API traders leave self-trade prevention off; their rare accidental self-matches are legitimate.
      a.stp = rng.chance(0.3) ? 'none' : rng.pick(['cancel_taker', 'cancel_maker', 'cancel_both'] as const);
      a.activity *= 4;
      fund(a, rng.lognormal(60_000, 1), 1);
      this.algos.push(a);
      this.traders.add(a);
      if (rng.chance(0.5)) this.perpTraders.add(a);
    }
    for (let i = 0; i < cfg.whales; i++) {
      const a = this.create('whale');
      a.sizeScale = rng.lognormal(30, 0.6);
      fund(a, rng.lognormal(3e6, 0.7), 1);
      this.whales.push(a);
    }
    for (let i = 0; i < cfg.momentum; i++) {
      const a = this.create('momentum');
      a.sizeScale = rng.lognormal(4, 0.6);
      fund(a, rng.lognormal(150_000, 0.8), 1);
      this.momentum.push(a);
    }
    for (let i = 0; i < cfg.retail; i++) {
      const a = this.create('retail');
      fund(a, rng.lognormal(2_500, 1.3), 1.2);
      this.retail.push(a);
      if (rng.chance(0.45)) this.traders.add(a);
      if (rng.chance(0.22)) this.perpTraders.add(a);
      if (rng.chance(0.04)) {
        // A sub-account of the same person: same devices, funded by internal transfers.
        const sub = this.create('retail', a.country);
        sub.devices.length = 0;
        sub.devices.push(...a.devices);
        sub.ips.length = 0;
        sub.ips.push(...a.ips);
        sub.master = a;
        fund(sub, rng.lognormal(800, 1), 1);
        this.retail.push(sub);
        if (rng.chance(0.5)) this.traders.add(sub);
      }
    }
    for (let i = 0; i < cfg.borrowers; i++) {
      const a = rng.chance(0.5) ? rng.pick(this.retail) : this.create('borrower');
      if (a.role === 'borrower') fund(a, rng.lognormal(5_000, 1), 2);
      this.borrowers.push(a);
    }
    for (let i = 0; i < cfg.savers; i++) {
      const a = rng.chance(0.7) ? rng.pick(this.retail) : this.create('saver');
      if (a.role === 'saver') fund(a, rng.lognormal(8_000, 1.1), 1);
      this.savers.push(a);
    }
    this.shareIps(cfg.sharedIpGroups);
  }

  /**
   * Legitimate shared infrastructure: offices (several unrelated traders behind one NAT IP) and
   * households (two accounts on one laptop). Detectors must not treat sharing alone as collusion.
   */
  private shareIps(groups: number): void {
    const { rng, ids } = this.d;
    for (let g = 0; g < groups; g++) {
      if (rng.chance(0.6)) {
        const office = ids.ip(rng.pick(['SG', 'GB', 'DE', 'KR', 'TR']));
        const members = rng.sample(this.traders.accounts, rng.int(3, 9));
        for (const a of members) a.ips.push(office);
      } else {
        const pair = rng.sample(this.retail, 2);
        if (pair.length < 2) continue;
        pair[1].devices.push(pair[0].devices[0]);
        pair[1].ips.push(pair[0].ips[0]);
      }
    }
  }

  position(a: Account, market: number): Position {
    let p = a.positions[market];
    if (p === null) {
      p = new Position(a, market, a.leverage);
      a.positions[market] = p;
    }
    return p;
  }
}
