import type { ExchangeEvent } from '../events/schema.js';
import { TYPOLOGIES, type LabelEpisode } from '../events/labels.js';
import { injectAbuse } from './abuse/index.js';
import { AccountActivity } from './agents/account-activity.js';
import { CloseTraders } from './agents/close-traders.js';
import { MarketMaker, type MakerStyle } from './agents/market-maker.js';
import { MomentumTraders } from './agents/momentum.js';
import { Products } from './agents/products.js';
import { RetailFlow } from './agents/retail-flow.js';
import { Signups } from './agents/signups.js';
import { Whales } from './agents/whales.js';
import { resolveConfig, startTimeFor, type SimConfig, type SimConfigInput } from './config.js';
import { SimContext } from './context.js';
import type { SimMarket } from './markets.js';
import type { Account } from './population.js';
import { Venue } from './venue.js';

export interface SimResult {
  seed: number;
  startTime: number;
  endTime: number;
  durationMs: number;
  events: number;
  countsByType: Record<string, number>;
  episodes: LabelEpisode[];
  episodesByTypology: Record<string, number>;
  config: SimConfig;
}

function isResolved(c: SimConfigInput | SimConfig): c is SimConfig {
  return typeof (c as SimConfig).durationMs === 'number' && typeof (c as SimConfig).abuse?.typologies?.spoofing?.perHour === 'number';
}

/**
 * The exchange simulator. Build it with a config and a consumer, then either `run()` it to the
 * end or `step(until)` through event time (to await a writer's backpressure, drive a progress
 * bar, or interleave with a live consumer). Everything is seeded: same config, same events.
 */
export class Simulation {
  readonly config: SimConfig;
  readonly ctx: SimContext;
  private finished = false;

  constructor(config: SimConfigInput | SimConfig, onEvent: (e: ExchangeEvent) => void) {
    this.config = isResolved(config) ? config : resolveConfig(config);
    const start = this.config.startTime ?? startTimeFor(this.config.seed);
    const ctx = (this.ctx = new SimContext(this.config, onEvent, start));
    const rng = ctx.root.fork('agents');
    ctx.pop.build(this.config.population, ctx.assets.map((a) => a.price));

    const venue = new Venue(ctx, rng.fork('venue'));
    venue.start(start);
    this.startMakers(rng.fork('makers'));
    for (const m of ctx.markets) {
      new RetailFlow(ctx, rng.fork(`retail:${m.symbol}`), m, m.isPerp ? ctx.pop.perpTraders : ctx.pop.traders, ctx.pop.newcomers).start(start);
      const momentum = ctx.pop.momentum.filter((_, i) => i % ctx.markets.length === m.index || i % 3 === m.index % 3);
      new MomentumTraders(ctx, rng.fork(`momentum:${m.symbol}`), m, momentum).start(start);
    }
    new Whales(ctx, rng.fork('whales'), ctx.pop.whales, 10 * this.config.trafficScale).start(start);
    new AccountActivity(ctx, rng.fork('accounts'), venue).start(start);
    new Products(ctx, rng.fork('products')).start(start);
    new Signups(ctx, rng.fork('signups')).start(start);
    new CloseTraders(ctx, rng.fork('close')).start(start);
    if (this.config.abuse.enabled && this.config.abuse.intensity > 0) injectAbuse(ctx, ctx.root.fork('abuse'), venue);
  }

  /** Which makers quote which markets, and how. */
  private startMakers(rng: SimContext['root']): void {
    const ctx = this.ctx;
    const { makers, hft } = ctx.pop;
    for (const m of ctx.markets) {
      const inst: Account[] = m.spec.thin ? rng.sample(makers, Math.min(makers.length, rng.int(1, 2))) : rng.sample(makers, Math.min(makers.length, 3));
      const fast: Account[] = m.spec.thin ? (rng.chance(0.5) ? rng.sample(hft, 1) : []) : rng.sample(hft, Math.min(hft.length, 2));
      let depth = 0;
      for (const a of inst) {
        const style = this.institutional(m, rng);
        depth += style.levelNotional * style.levels;
        new MarketMaker(ctx, rng.fork(`mm:${a.id}:${m.symbol}`), a, m, style).start(ctx.start + rng.uniform(0, 50));
      }
      for (const a of fast) new MarketMaker(ctx, rng.fork(`hft:${a.id}:${m.symbol}`), a, m, this.hft(m, rng)).start(ctx.start + rng.uniform(50, 500));
      m.depthNotional = Math.max(depth, m.spec.makerLevelNotional);
    }
  }

  private institutional(m: SimMarket, rng: SimContext['root']): MakerStyle {
    const s = m.spec;
    const half = s.halfSpreadBps * rng.uniform(0.8, 1.6);
    const levelNotional = s.makerLevelNotional * rng.uniform(0.6, 1.4);
    return {
      levels: s.makerLevels,
      halfSpreadBps: half,
      levelGapBps: s.levelGapBps * rng.uniform(0.8, 1.3),
      levelNotional,
      refreshMs: (s.thin ? rng.uniform(2_000, 6_000) : rng.uniform(700, 1_600)) / this.config.trafficScale,
      toleranceBps: half * rng.uniform(0.4, 0.8),
      amendShare: rng.uniform(0.1, 0.5),
      skewBps: half * 2,
      maxInventory: levelNotional * s.makerLevels * 0.6,
      imbalanceBps: 0,
      takeEdgeBps: 0,
    };
  }

  private hft(m: SimMarket, rng: SimContext['root']): MakerStyle {
    const s = m.spec;
    const half = s.halfSpreadBps * rng.uniform(0.2, 0.5);
    return {
      levels: rng.int(1, 2),
      halfSpreadBps: half,
      levelGapBps: s.levelGapBps * 0.5,
      levelNotional: s.makerLevelNotional * rng.uniform(0.08, 0.2),
      refreshMs: (s.thin ? rng.uniform(400, 1_200) : rng.uniform(90, 250)) / this.config.trafficScale,
      toleranceBps: half * 0.15,
      amendShare: rng.uniform(0, 0.2),
      skewBps: half * 3,
      maxInventory: s.makerLevelNotional,
      imbalanceBps: half * 1.5,
      takeEdgeBps: s.halfSpreadBps * rng.uniform(1.5, 3),
    };
  }

  get startTime(): number {
    return this.ctx.start;
  }

  get endTime(): number {
    return this.ctx.end;
  }

  /** Current event time. */
  get now(): number {
    return this.ctx.sched.now;
  }

  /** Runs every action before `until` (capped at the end). Returns false once the run is complete. */
  step(until: number): boolean {
    const end = Math.min(until, this.ctx.end);
    this.ctx.sched.runUntil(end);
    if (end >= this.ctx.end) this.finished = true;
    return !this.finished;
  }

  run(): SimResult {
    this.step(this.ctx.end);
    return this.result();
  }

  result(): SimResult {
    const done = this.ctx.episodes.filter((e) => !e.empty).sort((a, b) => a.start - b.start || a.end - b.end);
    done.forEach((e, i) => (e.id = `ep-${this.config.seed}-${String(i + 1).padStart(4, '0')}`));
    const episodes = done.map((e) => e.toLabel());
    const byTypology: Record<string, number> = Object.fromEntries(TYPOLOGIES.map((t) => [t, 0]));
    for (const e of episodes) byTypology[e.typology]++;
    const countsByType = Object.fromEntries([...this.ctx.out.counts].sort((a, b) => a[0].localeCompare(b[0])));
    return {
      seed: this.config.seed,
      startTime: this.ctx.start,
      endTime: this.ctx.end,
      durationMs: this.config.durationMs,
      events: this.ctx.out.seq,
      countsByType,
      episodes,
      episodesByTypology: byTypology,
      config: this.config,
    };
  }
}

/** Runs a whole simulation, streaming every event to `onEvent` (nothing touches disk). */
export function simulate(config: SimConfigInput | SimConfig, onEvent: (e: ExchangeEvent) => void): SimResult {
  return new Simulation(config, onEvent).run();
}
