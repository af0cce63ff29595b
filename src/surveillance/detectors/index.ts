import type { DetectorDefinition } from '../detector.js';
import { fatFinger } from './fat-finger.js';
import { spoofing, layering } from './spoofing.js';
import { quoteStuffing } from './quote-stuffing.js';
import { ramping } from './ramping.js';
import { collateralAbuse } from './collateral-abuse.js';
import { crossMarket } from './cross-market.js';
import { markingTheClose } from './marking-the-close.js';
import { selfTrade } from './self-trade.js';
import { collusiveWash } from './collusive-wash.js';
import { fakeVolume } from './fake-volume.js';
import { fakeTraffic } from './fake-traffic.js';
import { pumpAndDump } from './pump-and-dump.js';

/**
 * The built-in detectors, in dispatch order. A new detector module adds one line here (or ships as
 * a plugin: a module exporting `detectors`, listed under `plugins` in the config).
 */
export const BUILTIN_DETECTORS: readonly DetectorDefinition[] = [selfTrade as unknown as DetectorDefinition, collusiveWash as unknown as DetectorDefinition, fakeVolume as unknown as DetectorDefinition, fakeTraffic as unknown as DetectorDefinition, pumpAndDump as unknown as DetectorDefinition, fatFinger as unknown as DetectorDefinition, spoofing as unknown as DetectorDefinition, layering as unknown as DetectorDefinition, quoteStuffing as unknown as DetectorDefinition, ramping as unknown as DetectorDefinition, collateralAbuse as unknown as DetectorDefinition, crossMarket as unknown as DetectorDefinition, markingTheClose as unknown as DetectorDefinition];

export { selfTrade, fatFinger };
