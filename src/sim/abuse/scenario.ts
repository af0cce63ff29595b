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
export abstract class Scenario extends Agent {
  protected readonly live: { m: SimMarket; o: EngineOrder }[] = [];

  constructor(
    ctx: SimContext,
    rng: Rng,
    readonly ep: Episode,
  ) {
    super(ctx, rng);
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
