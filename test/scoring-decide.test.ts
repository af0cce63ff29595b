import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDataset, germanFeatureSpecs, loadTable, rowOf } from '../src/scoring/data.js';
import { Decider, modelVersion, money } from '../src/scoring/decide/decide.js';
import { EXAMPLE_POLICY } from '../src/scoring/decide/default-policy.js';
import { parsePolicy, policyJsonSchema, type PolicyInput } from '../src/scoring/decide/policy.js';
import { loadArtifact, registerArtifact, writeArtifact } from '../src/scoring/model-artifact.js';
import { trainModel } from '../src/scoring/train.js';
import { cli, DATA } from './helpers/cli.js';

const GERMAN = `${DATA}credit/german.data`;

const POLICY: PolicyInput = {
  name: 'consumer',
  version: '3',
  products: [
    {
      id: 'instalment_loan',
      currency: 'EUR',
      bands: [
        { band: 'A', maxProbability: 0.15, limit: { base: '1000', per: { credit_amount: 1.5 }, max: '20000' }, pricing: { apr: '0.049' } },
        { band: 'B', maxProbability: 0.35, limit: { base: '500', per: { credit_amount: 1 }, max: '10000' }, pricing: { apr: '0.089' } },
        { band: 'C', maxProbability: 1, eligible: false },
      ],
    },
  ],
  hardRules: [
    { id: 'minor', feature: 'age', op: '<', value: 21, action: 'deny', reason: 'younger than 21' },
    { id: 'long_duration', feature: 'duration_months', op: '>', value: 36, action: 'cap', capLimit: '2500', reason: 'terms over 36 months are capped' },
    { id: 'many_credits', feature: 'existing_credits', op: '>=', value: 3, action: 'downgrade', reason: 'three or more existing credits' },
  ],
};

function germanModel() {
  const lt = loadTable(GERMAN, 'german');
  const { dataset } = buildDataset(lt.table, germanFeatureSpecs(lt.table), { target: 'bad' });
  const out = trainModel(dataset, { model: 'scorecard', params: {}, monotone: {} });
  const dir = mkdtempSync(join(tmpdir(), 'rl-decide-'));
  const art = join(dir, 'sc');
  writeArtifact(art, out.json, { createdFrom: { fingerprint: lt.fingerprint }, features: dataset.features, target: 'bad', metrics: {}, trainingParams: out.params });
  const version = registerArtifact(join(dir, 'models'), art, 'champion');
  return { dir, models: join(dir, 'models'), version, lt, dataset };
}

describe('decision policies', () => {
  it('validates with errors that name the path, and exports a JSON Schema', () => {
    expect(() => parsePolicy({ ...POLICY, products: [{ ...POLICY.products[0], bands: [POLICY.products[0].bands[1], POLICY.products[0].bands[0], POLICY.products[0].bands[2]] }] }, 'p.json')).toThrow(
      /p\.json is not a valid policy:\n {2}products\.0\.bands\.1\.maxProbability: bands must be in strictly ascending maxProbability/,
    );
    expect(() => parsePolicy({ ...POLICY, hardRules: [{ id: 'x', feature: 'age', op: '<', value: 1, action: 'cap', reason: 'r' }] })).toThrow(/hardRules\.0\.capLimit: a cap rule needs capLimit/);
    expect(() => parsePolicy({ ...POLICY, hardRules: [{ id: 'x', feature: 'age', op: '<', value: 1, action: 'deny', products: ['nope'], reason: 'r' }] })).toThrow(/unknown product "nope"/);
    expect(() => parsePolicy({ ...POLICY, products: [{ ...POLICY.products[0], bands: [{ band: 'A', maxProbability: 0.5, pricing: { apr: '5%' } }] }] })).toThrow(/apr: expected a non-negative decimal/);
    const schema = policyJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(['name', 'version', 'products', 'hardRules']);
    expect(parsePolicy(EXAMPLE_POLICY).products.map((p) => p.id)).toEqual(['margin', 'collateral_loan', 'credit_line']);
  });

  it('decides by band, applies hard rules and records the table row, the rules with their values, the model version and alias', () => {
    const g = germanModel();
    const a = loadArtifact(`${g.models}@champion`);
    const decider = new Decider(a.model, modelVersion(a, `${g.models}@champion`), parsePolicy(POLICY));
    expect(decider.version).toMatchObject({ version: g.version, alias: 'champion', type: 'scorecard' });
    const col = new Map(g.lt.table.header.map((h, i) => [h, i]));
    let seen = { A: 0, B: 0, C: 0, denied: 0, capped: 0, downgraded: 0 };
    for (let r = 0; r < g.dataset.nRows; r++) {
      const cells = g.lt.table.rows[r];
      const lookup = (n: string) => (col.has(n) ? Number(cells[col.get(n)!]) : NaN);
      const d = decider.decide(String(r + 1), rowOf(g.dataset, r), lookup);
      const p = d.products[0];
      const scoreBand = d.probability <= 0.15 ? 'A' : d.probability <= 0.35 ? 'B' : 'C';
      expect(p.table.scoreBand).toBe(scoreBand);
      expect(d.model.alias).toBe('champion');
      expect(d.reasons.length).toBeGreaterThan(0);
      seen = { ...seen, [scoreBand]: seen[scoreBand as 'A'] + 1 };
      const age = lookup('age');
      const duration = lookup('duration_months');
      const credits = lookup('existing_credits');
      const band = scoreBand === 'A' && credits >= 3 ? 'B' : scoreBand === 'B' && credits >= 3 ? 'C' : scoreBand;
      expect(p.band).toBe(band);
      expect(p.eligible).toBe(band !== 'C' && age >= 21);
      expect(p.hardRules.map((x) => x.id).sort()).toEqual([...(age < 21 ? ['minor'] : []), ...(duration > 36 ? ['long_duration'] : []), ...(credits >= 3 ? ['many_credits'] : [])].sort());
      if (age < 21) expect(p.hardRules.find((x) => x.id === 'minor')!.value).toBe(age);
      if (p.eligible) {
        const amount = lookup('credit_amount');
        let limit = band === 'A' ? Math.min(1000 + 1.5 * amount, 20000) : Math.min(500 + amount, 10000);
        if (duration > 36) limit = Math.min(limit, 2500);
        expect(p.limit).toBe(money(limit));
        expect(p.pricing.apr).toBe(band === 'A' ? '0.049' : '0.089');
      } else expect([p.limit, p.pricing]).toEqual(['0.00', {}]);
      if (age < 21) seen.denied++;
      if (duration > 36) seen.capped++;
      if (credits >= 3) seen.downgraded++;
    }
    // The population exercises every path.
    expect(Math.min(seen.A, seen.B, seen.C, seen.denied, seen.capped, seen.downgraded)).toBeGreaterThan(0);
  });

  it('money is cents rounded down', () => {
    expect([money(1234.567), money(0), money(-5), money(NaN), money(1e7 + 0.1)]).toEqual(['1234.56', '0.00', '0.00', '0.00', '10000000.10']);
  });
});

describe('riskloop score decide', () => {
  it('decides every applicant of a CSV, with the alias it was loaded through, as NDJSON', async () => {
    const g = germanModel();
    const policy = join(g.dir, 'policy.json');
    writeFileSync(policy, JSON.stringify(POLICY));
    const { stdout } = await cli(['score', 'decide', '--model', `${g.models}@champion`, '--policy', policy, '--data', GERMAN, '--json']);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1000);
    expect(lines[0]).toMatchObject({ subject: '1', model: { version: g.version, alias: 'champion', type: 'scorecard' } });
    expect(lines[0].products[0]).toHaveProperty('table.scoreBand');
    const text = await cli(['score', 'decide', '--model', `${g.models}@champion`, '--policy', policy, '--data', GERMAN]);
    expect(text.stdout.split('\n')[0]).toMatch(/^1: p\(bad\) 0\.\d{4} score \d+ \| instalment_loan /);
  });

  it('says what is wrong with a bad policy, and exits non-zero', async () => {
    const g = germanModel();
    const policy = join(g.dir, 'bad.json');
    writeFileSync(policy, JSON.stringify({ ...POLICY, hardRules: [{ id: 'x', feature: 'age', op: '=<', value: 1, action: 'deny', reason: 'r' }] }));
    await expect(cli(['score', 'decide', '--model', `${g.models}@champion`, '--policy', policy, '--data', GERMAN])).rejects.toMatchObject({ stderr: expect.stringMatching(/bad\.json is not a valid policy:\n {2}hardRules\.0\.op: /) });
    await expect(cli(['score', 'decide', '--model', `${g.models}@champion`, '--policy', policy])).rejects.toMatchObject({ stderr: expect.stringMatching(/exactly one of --data/) });
  });

  it('decides accounts from an event history on point-in-time features, and prints the score changes', async () => {
    const g = germanModel();
    const policy = join(g.dir, 'events-policy.json');
    writeFileSync(policy, JSON.stringify({ ...POLICY, products: [{ id: 'instalment_loan', bands: [{ band: 'A', maxProbability: 1, limit: { base: '1000', per: { equity_usd: 0.5 } } }] }], hardRules: [{ id: 'open_liquidation', feature: 'liquidations_30d', op: '>', value: 0, action: 'deny', reason: 'liquidated' }] }));
    const t = Date.UTC(2026, 0, 5);
    const events = [
      { type: 'deposit', id: 'd1', ts: t, accountId: 'a1', asset: 'USDT', chain: 'TRON', address: 'T1', amount: '5000' },
      { type: 'deposit', id: 'd2', ts: t + 1, accountId: 'a2', asset: 'USDT', chain: 'TRON', address: 'T2', amount: '5000' },
      { type: 'liquidation', id: 'l1', ts: t + 60_000, market: 'BTCUSDT-PERP', accountId: 'a2', side: 'sell', price: '60000', size: '0.1' },
      'not json',
    ];
    const file = join(g.dir, 'events.ndjson');
    writeFileSync(file, events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n');
    const { stdout, stderr } = await cli(['score', 'decide', '--model', `${g.models}@champion`, '--policy', policy, '--events', file, '--changes', '--json']);
    expect(stderr).toMatch(/1 record\(s\) rejected \(first: line 4: /);
    const out = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.map((x) => x.type ?? x.subject)).toEqual(['score.changed', 'a1', 'a2']);
    expect(out[0]).toMatchObject({ accountId: 'a2', ts: t + 60_000, trigger: { kind: 'liquidation', eventId: 'l1' } });
    expect(out[0].changed.map((c: { field: string }) => c.field)).toContain('instalment_loan.eligible');
    expect(out[2].products[0]).toMatchObject({ eligible: false, hardRules: [{ id: 'open_liquidation', value: 1 }] });
    expect(out[1].products[0]).toMatchObject({ eligible: true, limit: '3500.00', hardRules: [] });
    expect(out[2].model).toMatchObject({ version: g.version, alias: 'champion' });
  });

  it('prints the policy JSON Schema', async () => {
    const { stdout } = await cli(['score', 'policy-schema']);
    expect(JSON.parse(stdout)).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' });
  });
});
