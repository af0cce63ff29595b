import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import type { LabelEpisode } from '../src/events/labels.js';
import type { ExchangeEvent } from '../src/events/schema.js';
import { datasetFromRows, learnRules, mineRules, readableBetween, renderRule } from '../src/policy/index.js';
import { checkRules, compilePolicy } from '../src/rules/index.js';
import { Rng } from '../src/sim/rng.js';

/** A planted conjunction: positives have x ≥ 40 and z > 0.4; negatives fail one of the two; y is noise, 10% missing. */
function planted(seed: number, n = 12_000) {
  const rng = new Rng(seed);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const pos = rng.chance(0.03);
    let x: number;
    let z: number;
    if (pos) [x, z] = [rng.int(40, 120), rng.uniform(0.4, 1)];
    else if (rng.chance(0.5)) [x, z] = [rng.int(0, 39), rng.uniform(0, 1)];
    else [x, z] = [rng.int(0, 120), rng.uniform(0, 0.39)];
    rows.push({ values: [x, rng.chance(0.1) ? null : rng.normal(), z], label: pos, group: `ep${i % 9}` });
  }
  return datasetFromRows(['count(by account over 1m where type == "order.cancelled")', 'size', 'avg(size by account over 5m)'], rows);
}

describe('rule learner', () => {
  it('recovers a planted conjunction with readable thresholds, and is deterministic for a seed', () => {
    const ds = planted(5);
    const rules = learnRules(ds, { seed: 3 });
    expect(rules.length).toBeGreaterThan(0);
    const best = rules[0];
    expect(best.metrics.precision).toBe(1);
    expect(best.metrics.recall).toBe(1);
    expect(best.conditions).toHaveLength(2);
    const count = best.conditions.find((c) => c.feature.startsWith('count('))!;
    // Integer feature: `>= 40` exactly (the planted cut), not 39.5.
    expect(count).toEqual({ feature: 'count(by account over 1m where type == "order.cancelled")', op: '>=', threshold: 40 });
    const avg = best.conditions.find((c) => c.feature.startsWith('avg('))!;
    expect(avg.op).toBe('>');
    expect([0.39, 0.4]).toContain(avg.threshold);
    // The noise feature is never part of the best rule.
    expect(best.conditions.some((c) => c.feature === 'size')).toBe(false);
    expect(learnRules(planted(5), { seed: 3 })).toEqual(rules);
  });

  it('removes near-duplicates: no two kept rules cover mostly the same rows or use the same features and directions', () => {
    const rules = learnRules(planted(6), { seed: 1, maxRules: 10, minPrecision: 0.3 });
    const sigs = rules.map((r) => r.conditions.map((c) => `${c.feature}${c.op[0]}`).join('&'));
    expect(new Set(sigs).size).toBe(sigs.length);
  });

  it('returns nothing without positives or features, and honours precision floors', () => {
    const none = datasetFromRows(['x'], [{ values: [1], label: false }, { values: [2], label: false }]);
    expect(learnRules(none)).toEqual([]);
    for (const r of learnRules(planted(7), { minPrecision: 0.95 })) expect(r.metrics.precision).toBeGreaterThanOrEqual(0.95);
  });

  it('treats a missing value as failing every comparison, as the rule language does', () => {
    // Positives are exactly the rows where y is missing: no threshold on y can select them.
    const rows = Array.from({ length: 400 }, (_, i) => ({ values: [i % 5 === 0 ? null : (i % 7) - 3], label: i % 5 === 0 }));
    const rules = learnRules(datasetFromRows(['y'], rows), { minRecall: 0.01, minPrecision: 0.5 });
    for (const r of rules) expect(r.metrics.truePositives).toBe(0);
    expect(rules).toEqual([]);
  });

  it('picks the value with the fewest significant digits between two observations', () => {
    expect(readableBetween(0.3781, 0.3794)).toBe(0.379);
    expect(readableBetween(12, 19)).toBe(12);
    expect(readableBetween(123.4, 180)).toBe(130);
    expect(readableBetween(0.00041, 0.0009)).toBe(0.0005);
  });

  it('renders rules the compiler accepts, laid out like an analyst writes them', () => {
    const [r] = learnRules(planted(5), { seed: 3 });
    const text = renderRule(r, { name: 'stuffing_1', description: 'Mined', eventTypes: ['order.cancelled'], outcome: 'hold', score: 70, tags: ['mined', 'quote_stuffing'] });
    expect(text.split('\n')[0]).toBe('rule stuffing_1 "Mined"');
    expect(text).toMatch(/^ {2}when type == "order\.cancelled"\n {7}and count\(by account over 1m where type == "order\.cancelled"\) >= 40/m);
    expect(text).toMatch(/\n {2}then hold score 70 tags mined, quote_stuffing\n$/);
    expect(checkRules(text).ok).toBe(true);
  });
});

/** Accounts placing orders; two abusers burst 30 orders in 3 s; the labels say when. */
function stream(seed: number) {
  const rng = new Rng(seed);
  const events: ExchangeEvent[] = [];
  const labels: LabelEpisode[] = [];
  const t0 = Date.UTC(2024, 0, 1);
  let n = 0;
  const order = (ts: number, acc: string): ExchangeEvent => ({ id: `e${++n}`, ts, type: 'order.placed', market: 'BTCUSDT', accountId: acc, orderId: `o${n}`, side: 'buy', orderType: 'limit', timeInForce: 'GTC', price: '100', size: String(rng.int(1, 9)) }) as ExchangeEvent;
  for (let s = 0; s < 3600; s += 1) if (rng.chance(0.8)) events.push(order(t0 + s * 1000 + rng.int(0, 999), `acc${rng.int(1, 40)}`));
  for (let k = 0; k < 6; k++) {
    const acc = `bad${k % 2}`;
    const start = t0 + 300_000 + k * 500_000;
    for (let i = 0; i < 30; i++) events.push(order(start + i * 100, acc));
    labels.push({ id: `ep${k}`, typology: 'quote_stuffing', accounts: [acc], markets: ['BTCUSDT'], startTime: start, endTime: start + 3000, orderIds: [], tradeIds: [] });
  }
  events.sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
  return { events, labels };
}

describe('mineRules', () => {
  it('learns a rule from labelled events that replays on the rule engine with the figures it reports', async () => {
    const { events, labels } = stream(1);
    const res = await mineRules({ input: { events }, labels, typology: 'quote_stuffing', features: ['count(by account over 10s where type == "order.placed")', 'size'], seed: 2 });
    expect(res.eventTypes).toEqual(['order.placed']);
    expect(res.positives).toBe(180);
    expect(res.candidates.length).toBeGreaterThan(0);
    const c = res.candidates[0];
    expect(c.name).toBe('mined_quote_stuffing_1');
    expect(c.metrics.groupsHit).toBe(6);
    expect(c.source).toMatch(/count\(by account over 10s where type == "order\.placed"\) >= \d+/);
    // Replay the mined rule: its decisions on the same events are exactly its reported support.
    const engine = compilePolicy({ name: 'm', rules: c.source }).createEngine();
    let fired = 0;
    for (const e of events) if (engine.evaluate(e).outcome !== 'allow') fired++;
    expect(fired).toBe(Math.round(c.metrics.support));
  });

  it('needs ground truth for files and in-memory events', async () => {
    await expect(mineRules({ input: { events: [] } })).rejects.toThrow(/no ground truth/);
  });
});

describe('riskloop policy mine (CLI)', () => {
  it('writes the candidate rules to a .rules file that the rules checker accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-mine-'));
    const { events, labels } = stream(1);
    writeFileSync(join(dir, 'events.ndjson'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    writeFileSync(join(dir, 'labels.ndjson'), labels.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const out = join(dir, 'mined.rules');
    const args = ['policy', 'mine', '--events', join(dir, 'events.ndjson'), '--labels', join(dir, 'labels.ndjson'), '--typology', 'quote_stuffing', '--feature', 'count(by account over 10s where type == "order.placed")', '--feature', 'size', '--out', out, '--json'];
    const res = JSON.parse((await cli(args)).stdout);
    expect(res.positives).toBe(180);
    expect(res.candidates[0].metrics.groupsHit).toBe(6);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain(res.candidates[0].source);
    expect(checkRules(text).ok).toBe(true);
    const bad = await cli([...args.slice(0, 8), '--feature', 'count(by acount over 10s)']).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(bad!.code).not.toBe(0);
    expect(bad!.stderr).toMatch(/acount/);
  }, 60_000);
});
