/**
 * Everything the abuse injectors share: the injector contract, parameter helpers, the Scenario
 * base (a labelled state machine on timers), market and account picking, and account linking.
 */
import type { Typology } from '../../events/labels.js';
import type { EngineOrder, OrderKind, OrderSide, StpMode, TimeInForce } from '../../market/matching-engine.js';
import { Agent } from '../agents/agent.js';
import type { SimContext } from '../context.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import type { Rng } from '../rng.js';
import type { Timer } from '../scheduler.js';
import type { Venue } from '../venue.js';
import type { Episode } from './episode.js';
import type { Planner } from './planner.js';

/** What an injector gets: the simulation, its own random stream, the booking planner and its parameters. */
export interface InjectorEnv {
  ctx: SimContext;
  rng: Rng;
  venue: Venue;
  planner: Planner;
  params: Record<string, unknown>;
  /** Creates and registers the ground-truth record of a new episode. */
  episode(typology: Typology, variant: string | undefined, params: Record<string, unknown>, internalTradesOnly?: boolean): Episode;
}

export interface Injector {
  readonly typology: Typology;
  /** Documented default parameters (config `params` override them key by key). */
  readonly defaults: Record<string, unknown>;
  /** Plans and schedules `count` episodes (fewer if the run has no room). */
  plan(env: InjectorEnv, count: number): void;
}

export interface OrderOpts {
  postOnly?: boolean;
  stp?: StpMode;
  stopPrice?: number;
  api?: boolean;
  reduceOnly?: boolean;
}

/** A [lo, hi] range parameter, or a fixed number. */
export function range(params: Record<string, unknown>, key: string, rng: Rng): number {
  const v = params[key];
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') return rng.uniform(v[0], v[1]);
  throw new Error(`parameter ${key} must be a number or a [min, max] pair`);
}

export function intRange(params: Record<string, unknown>, key: string, rng: Rng): number {
  return Math.round(range(params, key, rng));
}

export function num(params: Record<string, unknown>, key: string): number {
  const v = params[key];
  if (typeof v !== 'number') throw new Error(`parameter ${key} must be a number`);
  return v;
}

/**
 * Base of an injected episode: a small state machine driven by timers. Every order it places is
 * labelled with its episode, and whatever is still live when it ends is cancelled, so the label
 * holds exactly the orders (and, through fills, the trades) that are the abuse.
 */
export abstract class Scenario<P = unknown> extends Agent {
  protected readonly live: { m: SimMarket; o: EngineOrder }[] = [];

  constructor(
    env: InjectorEnv,
    rng: Rng,
    readonly ep: Episode,
    /** The episode's plan (market, actors, drawn sizes and times). */
    protected readonly p: P,
    /** The typology's parameters (defaults overridden by the config). */
    protected readonly params: Record<string, unknown>,
  ) {
    super(env.ctx, rng);
  }

  /** Schedules step `code` at time t (clamped to the run). */
  protected at(t: number, code: number, data: unknown = null): void {
    if (t < this.ctx.end) this.ctx.sched.once(this, t, code, data);
  }

  fire(timer: Timer, now: number): void {
    this.step(timer.code, timer.data, now);
  }

  protected abstract step(code: number, data: unknown, now: number): void;

  /** Places a labelled order. */
  protected order(m: SimMarket, a: Account, side: OrderSide, type: OrderKind, tif: TimeInForce, price: number, lots: number, now: number, opts: OrderOpts = {}): EngineOrder {
    const o = this.ctx.place(m, a, side, type, tif, price, Math.max(1, Math.round(lots)), now, {
      postOnly: opts.postOnly,
      stp: opts.stp,
      stopPrice: opts.stopPrice,
      reduceOnly: opts.reduceOnly,
      api: opts.api ?? true,
      label: this.ep,
    });
    if (o.isLive) this.live.push({ m, o });
    return o;
  }

  /** Cancels a labelled order if it is still live. */
  protected cancel(o: EngineOrder, m: SimMarket, now: number): void {
    if (o.isLive && m.engine.cancel(o, Math.floor(now))) this.ep.touch(Math.floor(now));
  }

  protected cancelAll(now: number): void {
    for (const { m, o } of this.live) this.cancel(o, m, now);
    this.live.length = 0;
  }

  /** Lots of `notional` USDT at the market's current price. */
  protected lots(m: SimMarket, notional: number): number {
    return m.lotsFor(notional);
  }

  /** Price `bps` basis points from `ticks`, rounded to a tick (at least one tick away when bps != 0). */
  protected offset(m: SimMarket, ticks: number, bps: number): number {
    const d = ticks * bps * 1e-4;
    const r = Math.round(d);
    return ticks + (r === 0 && bps !== 0 ? Math.sign(bps) : r);
  }

  /** Gives an account enough funds for its part (well-funded abusers; not an event). */
  protected fund(a: Account, asset: number, amount: number): void {
    if (a.balances[asset] < amount) a.balances[asset] = amount;
  }
}

/** Liquid markets (majors, spot and perpetual). */
export function liquidMarkets(ctx: SimContext): SimMarket[] {
  return ctx.markets.filter((m) => !m.spec.thin);
}

/** Picks a market (by weight) and a free start for an episode of `duration`, trying markets in random order. */
export function slot(env: InjectorEnv, candidates: SimMarket[], duration: number, also: (m: SimMarket) => string[] = () => []): { market: SimMarket; start: number } | null {
  const order = env.rng.shuffle(candidates.slice());
  for (const m of order) {
    const start = env.planner.findStart(env.rng, [m.symbol, ...also(m)], duration);
    if (start !== null) return { market: m, start };
  }
  return null;
}

/** An injector's parameters: its defaults, overridden key by key by the config. */
export function paramsOf(inj: Injector, env: InjectorEnv): Record<string, unknown> {
  return { ...inj.defaults, ...env.params };
}

/** Draws a variant by the weights in `params.variants`. */
export function pickVariant<V extends string>(rng: Rng, params: Record<string, unknown>): V {
  const variants = params.variants as Record<V, number>;
  const names = Object.keys(variants) as V[];
  return names[rng.weightedIndex(names.map((n) => variants[n]))];
}

/** The liquid markets with probability `params.liquidShare`, else the thin ones. */
export function liquidOrThin(ctx: SimContext, rng: Rng, params: Record<string, unknown>): SimMarket[] {
  return rng.chance(num(params, 'liquidShare')) ? liquidMarkets(ctx) : ctx.thinMarkets;
}

/** Accounts that trade actively (API traders and active retail): the usual source of manipulators. */
export function activeTraders(ctx: SimContext): Account[] {
  return ctx.pop.traders.accounts.filter((a) => a.role === 'algo' || (a.role === 'retail' && a.activity > 1.5));
}

export type LinkKind = 'device' | 'ip' | 'transfer' | 'api_ip';

/**
 * Makes accounts visibly related, the way colluding accounts usually are: a shared device
 * fingerprint, a shared IP, the same API server, or funding by internal transfer (emitted by the
 * scenario at its start). Returns how they are linked.
 */
export function link(rng: Rng, leader: Account, others: Account[], kinds: LinkKind[] = ['device', 'ip', 'transfer', 'api_ip']): LinkKind[] {
  const chosen = rng.sample(kinds, rng.int(1, Math.min(2, kinds.length)));
  for (const k of chosen) {
    for (const b of others) {
      if (k === 'device') {
        if (!b.devices.includes(leader.devices[0])) b.devices.unshift(leader.devices[0]);
      } else if (k === 'ip') {
        if (!b.ips.includes(leader.ips[0])) b.ips.unshift(leader.ips[0]);
      } else if (k === 'api_ip') {
        if (b.apiKeyId !== undefined && leader.apiIp) b.apiIp = leader.apiIp;
        else if (!b.ips.includes(leader.ips[0])) b.ips.unshift(leader.ips[0]);
      }
    }
  }
  return chosen;
}

/** Logs an account in through the leader's shared device/IP, so the link is visible in `login` events. */
export function loginLinked(ctx: SimContext, rng: Rng, leader: Account, b: Account, links: LinkKind[], now: number): void {
  const device = links.includes('device') ? leader.devices[0] : b.devices[0];
  const ip = links.includes('ip') || links.includes('api_ip') ? leader.ips[0] : b.ips[0];
  ctx.login(b, now, device, ip, rng.uniform(45, 120) * 60_000);
}
