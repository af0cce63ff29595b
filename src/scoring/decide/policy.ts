/**
 * Product policy: who may use a product (eligibility), how much (credit limit / quota) and at what
 * price (APR, LTV, margin haircut, collateral ratio), from tables by score band plus hard rules.
 * Validated with zod; `policyJsonSchema()` exports the same schema as JSON Schema.
 */
import { z } from 'zod';
import { unsignedDecimal } from '../../events/decimal.js';

const name = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');

export const Pricing = z
  .object({
    apr: unsignedDecimal.optional().describe('annual interest rate, e.g. "0.085"'),
    ltv: unsignedDecimal.optional().describe('maximum loan-to-value, e.g. "0.65"'),
    haircut: unsignedDecimal.optional().describe('margin haircut on collateral value, e.g. "0.10"'),
    collateralRatio: unsignedDecimal.optional().describe('required collateral / debt, e.g. "1.5"'),
  })
  .strict();

export const Limit = z
  .object({
    base: unsignedDecimal.default('0').describe('fixed part of the limit'),
    per: z.record(z.string().min(1), z.number().min(0)).default({}).describe('feature → multiplier, e.g. { "vol_weighted_collateral_usd": 0.5 }'),
    max: unsignedDecimal.optional().describe('ceiling of the limit'),
  })
  .strict();

export const Band = z
  .object({
    band: name.describe('band label, e.g. A'),
    maxProbability: z.number().min(0).max(1).describe('upper bound (inclusive) of the probability of bad for this band'),
    eligible: z.boolean().default(true),
    limit: Limit.default({ base: '0', per: {} }),
    pricing: Pricing.default({}),
  })
  .strict();

export const Product = z
  .object({
    id: name.describe('product id, e.g. margin, collateral_loan, credit_line, earn'),
    currency: z.string().min(1).max(16).default('USDT'),
    bands: z.array(Band).min(1).describe('bands by ascending maxProbability; the first band whose bound is ≥ the probability applies'),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (let i = 1; i < p.bands.length; i++) {
      if (!(p.bands[i].maxProbability > p.bands[i - 1].maxProbability)) ctx.addIssue({ code: 'custom', path: ['bands', i, 'maxProbability'], message: `bands must be in strictly ascending maxProbability (band ${p.bands[i].band} after ${p.bands[i - 1].band})` });
    }
    if (p.bands[p.bands.length - 1].maxProbability !== 1) ctx.addIssue({ code: 'custom', path: ['bands', p.bands.length - 1, 'maxProbability'], message: 'the last band must cover everything (maxProbability 1)' });
  });

export const RuleOp = z.enum(['>', '>=', '<', '<=', '==', '!=']);

export const HardRule = z
  .object({
    id: name,
    feature: z.string().min(1).describe('feature (or data column) the rule reads'),
    op: RuleOp,
    value: z.number(),
    whenMissing: z.boolean().default(false).describe('whether the rule fires when the feature is missing'),
    action: z.enum(['deny', 'cap', 'downgrade']).describe('deny: not eligible; cap: limit at most capLimit; downgrade: `steps` bands worse'),
    capLimit: unsignedDecimal.optional(),
    steps: z.number().int().positive().default(1),
    products: z.array(name).optional().describe('products it applies to (default all)'),
    reason: z.string().min(1).max(256).describe('adverse-action text'),
  })
  .strict()
  .refine((r) => r.action !== 'cap' || r.capLimit !== undefined, { message: 'a cap rule needs capLimit', path: ['capLimit'] });

export const Policy = z
  .object({
    name,
    version: z.string().min(1).max(64),
    products: z.array(Product).min(1),
    hardRules: z.array(HardRule).default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    const ids = new Set(p.products.map((x) => x.id));
    if (ids.size !== p.products.length) ctx.addIssue({ code: 'custom', path: ['products'], message: 'product ids must be unique' });
    p.hardRules.forEach((r, i) => {
      for (const id of r.products ?? []) if (!ids.has(id)) ctx.addIssue({ code: 'custom', path: ['hardRules', i, 'products'], message: `unknown product "${id}"` });
    });
  });

export type Policy = z.infer<typeof Policy>;
export type PolicyInput = z.input<typeof Policy>;
export type HardRule = z.infer<typeof HardRule>;
export type Pricing = z.infer<typeof Pricing>;

/** Parses a policy; errors name the path and what is wrong. */
export function parsePolicy(json: unknown, source = 'policy'): Policy {
  const r = Policy.safeParse(json);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  throw new Error(`${source} is not a valid policy:\n${lines.join('\n')}`);
}

export function policyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(Policy, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
}
