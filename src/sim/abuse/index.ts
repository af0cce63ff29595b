import type { Typology } from '../../events/labels.js';
import type { SimContext } from '../context.js';
import type { Rng } from '../rng.js';
import type { Venue } from '../venue.js';
import { collateralAbuse } from './collateral-abuse.js';
import { crossMarketManipulation } from './cross-market.js';
import { Episode } from './episode.js';
import { fakeTraffic } from './fake-traffic.js';
import { fatFinger } from './fat-finger.js';
import { layering } from './layering.js';
import { markingTheClose } from './marking-the-close.js';
import { Planner } from './planner.js';
import { pumpAndDump } from './pump-and-dump.js';
import { quoteStuffing } from './quote-stuffing.js';
import { ramping } from './ramping.js';
import type { Injector, InjectorEnv } from './common.js';
import { spoofing } from './spoofing.js';
import { washTrading } from './wash-trading.js';

/** Every injector, in planning order: the most constrained (fixed times, two markets, long windows) book first. */
export const INJECTORS: readonly Injector[] = [
  markingTheClose,
  crossMarketManipulation,
  pumpAndDump,
  fakeTraffic,
  collateralAbuse,
  washTrading,
  spoofing,
  layering,
  ramping,
  quoteStuffing,
  fatFinger,
];

export function injectorFor(t: Typology): Injector {
  const i = INJECTORS.find((x) => x.typology === t);
  if (!i) throw new Error(`no injector for ${t}`);
  return i;
}

/**
 * Plans every typology's episodes for the run (counts follow the configured rates and
 * intensities) and schedules their scenarios. Runs before the simulation starts.
 */
export function injectAbuse(ctx: SimContext, rng: Rng, venue: Venue): void {
  const cfg = ctx.cfg.abuse;
  const warmup = Math.min(cfg.warmupMs, ctx.cfg.durationMs * 0.25);
  const planner = new Planner(ctx.start + warmup, ctx.end - 5_000, cfg.guardMs);
  const hours = Math.max(0, planner.latest - planner.earliest) / 3_600_000;
  for (const inj of INJECTORS) {
    const t = cfg.typologies[inj.typology];
    const expected = t.perHour * t.intensity * cfg.intensity * hours;
    if (expected <= 0) continue;
    const r = rng.fork(inj.typology);
    const count = Math.floor(expected) + (r.float() < expected - Math.floor(expected) ? 1 : 0);
    if (count === 0) continue;
    const env: InjectorEnv = {
      ctx,
      rng: r,
      venue,
      planner,
      params: t.params,
      episode: (typology, variant, params, internalTradesOnly = false) => {
        const e = new Episode('', typology, variant, params, internalTradesOnly);
        ctx.episodes.push(e);
        return e;
      },
    };
    inj.plan(env, count);
  }
}
