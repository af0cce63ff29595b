import type { DetectorDefinition } from '../detector.js';
import { fatFinger } from './fat-finger.js';
import { selfTrade } from './self-trade.js';

/**
 * The built-in detectors, in dispatch order. A new detector module adds one line here (or ships as
 * a plugin: a module exporting `detectors`, listed under `plugins` in the config).
 */
export const BUILTIN_DETECTORS: readonly DetectorDefinition[] = [selfTrade as unknown as DetectorDefinition, fatFinger as unknown as DetectorDefinition];

export { selfTrade, fatFinger };
