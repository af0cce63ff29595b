import { z } from 'zod';

/**
 * Abuse typologies. The simulator's labels and the detectors' alerts use exactly these names,
 * so evaluation can match one against the other.
 */
export const TYPOLOGIES = [
  'spoofing',
  'layering',
  'wash_trading',
  'pump_and_dump',
  'ramping',
  'marking_the_close',
  'quote_stuffing',
  'fat_finger',
  'cross_market_manipulation',
  'fake_traffic',
  'collateral_abuse',
] as const;
export const Typology = z.enum(TYPOLOGIES);
export type Typology = z.infer<typeof Typology>;

/** One ground-truth abuse episode, one line of labels.ndjson. */
export const LabelEpisode = z.object({
  id: z.string().min(1),
  typology: Typology,
  /** Finer form within the typology, e.g. wash_trading: self_trade | collusive_pair | collusive_ring. */
  variant: z.string().optional(),
  accounts: z.array(z.string()).min(1),
  markets: z.array(z.string()),
  startTime: z.number().int().nonnegative(),
  endTime: z.number().int().nonnegative(),
  /**
   * When the abuse first shows in the market, if later than startTime (a pump's first rush after
   * quiet funding and accumulation). Detection delay is measured from it.
   */
  onsetTime: z.number().int().nonnegative().optional(),
  orderIds: z.array(z.string()),
  tradeIds: z.array(z.string()),
  /** Free-form parameters the injector used (intensity, sizes, offsets), for analysis. */
  params: z.record(z.string(), z.unknown()).optional(),
});
export type LabelEpisode = z.infer<typeof LabelEpisode>;
