import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRules, compilePolicy, createFeatureExtractor, loadPolicyFile, replay, RuleCompileError, type Decision, type Operator, type PolicyDoc } from '../src/index.js';
import type { ExchangeEvent } from '../src/events/schema.js';
import { policyJsonSchema } from '../src/rules/index.js';
import type { Alert } from '../src/surveillance/alert.js';

const T0 = Date.UTC(2024, 7, 1);
const wd = (id: string, ts: number, account: string, amount: string, extra: Record<string, unknown> = {}): ExchangeEvent =>
  ({ id, ts, type: 'withdrawal', accountId: account, asset: 'USDT', chain: 'ETH', address: '0xabc', amount, status: 'completed', ...extra }) as ExchangeEvent;
const login = (id: string, ts: number, account: string, deviceId: string, ip = '1.1.1.1'): ExchangeEvent =>
  ({ id, ts, type: 'login', accountId: account, sessionId: 's', deviceId, ip, success: true }) as ExchangeEvent;

function errorsOf(fn: () => unknown): { message: string; line: number; column: number; rule?: string }[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RuleCompileError);
    return (e as RuleCompileError).diagnostics;
  }
  throw new Error('expected a RuleCompileError');
}

/** Value of one expression on one event (fresh state), via the feature extractor. */
function valueOf(expr: string, e: ExchangeEvent): number | null {
  return createFeatureExtractor({ v: expr }).onEvent(e).v;
}

describe('compile errors name line, column and rule; several at once', () => {
  it('reports unknown fields, functions, event types and outcomes with suggestions', () => {
    const src = [
      'rule a "typo in a field"',
      '  when amout > 5 and type == "withdrawl"',
      '  then hold',
      'rule b when cnt(by account over 1h) > 3 then review',
      'rule c when sum(amount by acount over 1h) > 3 then blok',
      'rule d when abz(amount) > 3 then review',
    ].join('\n');
    const r = checkRules(src);
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual([
      { message: 'unknown field "amout"; did you mean "amount"?', line: 2, column: 8, rule: 'a' },
      { message: 'unknown event type "withdrawl"; did you mean "withdrawal"?', line: 2, column: 30, rule: 'a' },
      { message: expect.stringContaining('unknown aggregate "cnt"; did you mean "count"?'), line: 4, column: 13, rule: 'b' },
      { message: 'unknown field "acount"; did you mean "account"?', line: 5, column: 27, rule: 'c' },
      { message: expect.stringContaining('found "blok"; did you mean "block"?'), line: 5, column: 52, rule: 'c' },
      { message: expect.stringContaining('unknown function "abz"; did you mean "abs"?'), line: 6, column: 13, rule: 'd' },
    ]);
  });

  it('reports syntax errors at the offending token and resumes at the next rule', () => {
    const src = 'rule a when (amount > 5 then hold\nrule b when amount > then hold\nrule ok when amount > 1 then review\nrule c when amount > 1 then review score x';
    const r = checkRules(src);
    expect(r.errors.map((d) => [d.line, d.column, d.rule])).toEqual([
      [1, 25, 'a'],
      [2, 22, 'b'],
      [4, 42, 'c'],
    ]);
    expect(r.errors[0].message).toBe('expected ")" to close "(", found "then"');
    expect(r.errors[1].message).toBe('expected a value, found "then"');
    expect(r.errors[2].message).toBe('expected a number after "score", found "x"');
    expect(r.rules.map((x) => x.name)).toEqual(['ok']);
  });

  it('rejects nonsense types, chained comparisons, bad windows and quantiles, duplicates', () => {
    const cases: [string, string, number, number][] = [
      ['rule a when amount + "x" > 1 then hold', '"+" needs a number, not a string', 1, 22],
      ['rule a when amount then hold\nrule a when 1 < amount < 3 then hold', 'comparisons do not chain', 2, 24],
      ['rule a when count(by account over 5) > 1 then hold', 'expected a window duration like 10m or 1h after "over", found "5"', 1, 35],
      ['rule a when quantile(amount, 1.5 by account over 1h) > 1 then hold', 'the quantile must be a number between 0 and 1', 1, 30],
      ['rule a when amount > 1 then hold\nrule a when amount > 2 then hold', 'duplicate rule name "a" (first defined at line 1)', 2, 1],
      ['rule a when sum(count(by account over 1m) by account over 1h) > 1 then hold', 'aggregates cannot be nested', 1, 17],
      ['rule a when amount in 5 then hold', '"in" needs a list', 1, 23],
      ['rule a when amount = 5 then hold', '"=" is not an operator; use "==" to compare', 1, 20],
      ['rule a when 5 then hold', 'the condition of a rule must be true or false, not a number', 1, 13],
      ['rule a when amount > 10x then hold', 'unknown duration unit "x"', 1, 24],
      ['rule a when alerts(by deviceId over 1h) > 1 then hold', 'alerts(…) are keyed by account or by market', 1, 23],
      ['rule a when alerts(by account over 1h where typolgy == "x") > 1 then hold', 'unknown alert field "typolgy"; did you mean "typology"', 1, 45],
      ['', 'no rules', 1, 1],
    ];
    for (const [src, msg, line, col] of cases) {
      const r = checkRules(src);
      const d = r.errors.find((x) => x.message.includes(msg));
      expect(d, `${src} → ${JSON.stringify(r.errors)}`).toBeDefined();
      expect([d!.line, d!.column], src).toEqual([line, col]);
    }
  });

  it('checks list names against the policy and throws all diagnostics from compilePolicy', () => {
    const errs = errorsOf(() => compilePolicy({ name: 'p', rules: 'rule a when address in list("deny_adresses") then block\nrule b when amout > 1 then hold', lists: { deny_addresses: [] } }));
    expect(errs).toEqual([
      { message: 'unknown list "deny_adresses"; did you mean "deny_addresses"?', line: 1, column: 29, rule: 'a' },
      { message: 'unknown field "amout"; did you mean "amount"?', line: 2, column: 13, rule: 'b' },
    ]);
    expect(errorsOf(() => compilePolicy({ name: 'bad name', rules: 'rule a when amount > 1 then hold' } as PolicyDoc))[0].message).toMatch(/^policy name: /);
  });

  it('names feature-extraction errors by feature', () => {
    const errs = errorsOf(() => createFeatureExtractor({ ok: 'amount', bad: 'sum(amout by account over 1h)' }));
    expect(errs).toEqual([{ message: 'unknown field "amout"; did you mean "amount"?', line: 1, column: 5, rule: 'bad' }]);
  });
});

describe('operators and values', () => {
  const e = wd('w1', T0, 'acc1', '10.50', { memo: undefined, leverage: 3 });
  const cases: [string, number | null][] = [
    ['amount == 10.5', 1],
    ['amount == "10.5"', 1], // decimal strings compare numerically
    ['amount != 10.5', 0],
    ['amount > 9.99 and amount <= 10.5', 1],
    ['amount < 10.5', 0],
    ['amount >= "10.500"', 1],
    ['10 < amount', 1],
    ['amount * 2', 21],
    ['amount + 1.5 - 2', 10],
    ['amount / 0', null],
    ['-amount', -10.5],
    ['abs(-amount)', 10.5],
    ['asset == "USDT"', 1],
    ['asset != "BTC"', 1],
    ['asset in ["BTC", "USDT"]', 1],
    ['asset not in ["BTC", "USDT"]', 0],
    ['amount in [1, 10.5]', 1],
    ['amount in ["10.5"]', 1],
    ['address contains "ab"', 1],
    ['address startsWith "0x"', 1],
    ['address endsWith "bc"', 1],
    ['lower(asset) == "usdt"', 1],
    ['length(address)', 5],
    ['not (asset == "BTC") or false', 1],
    ['true and not false', 1],
    ['"b" > "a"', 1],
    ['asset > 5', 0], // a string that is no number never compares with one
    ['type == "withdrawal" and account == "acc1"', 1],
    ['notional', null],
    ['hour', 0],
    ['1h + 500ms', 3_600_500],
  ];
  for (const [expr, want] of cases) it(`${expr} → ${want}`, () => expect(valueOf(expr, e)).toBe(want));

  it('a missing field is null: every comparison with it is false, arithmetic gives null, nothing throws', () => {
    const missing: [string, number | null][] = [
      ['price > 1', 0],
      ['price < 1', 0],
      ['price == 1', 0],
      ['price != 1', 0],
      ['price in [1, 2]', 0],
      ['price not in [1, 2]', 0],
      ['price contains "1"', 0],
      ['price * 2', null],
      ['price == null', 1],
      ['price != null', 0],
      ['amount != null', 1],
      ['not (price > 1)', 1],
      ['deviceId.model == "x"', 0],
      ['feature("graph.degree")', null],
      ['avg(price by account over 1h)', null],
      ['sum(price by account over 1h)', 0],
      ['count(by deviceId over 1h)', null], // no key, no aggregate
    ];
    for (const [expr, want] of missing) expect(valueOf(expr, e), expr).toBe(want);
    // nested paths on primitives and junk events do not throw either
    const junk = { id: 'j', ts: T0, type: 'withdrawal', amount: { weird: true }, address: null } as unknown as ExchangeEvent;
    expect(valueOf('amount > 1 or address contains "x" or amount.weird == true', junk)).toBe(1);
    expect(valueOf('amount * 2', junk)).toBeNull();
  });

  it('reads plug-in features by the event account at event time', () => {
    const seen: [string, string, number][] = [];
    const fx = createFeatureExtractor({ f: 'feature("graph.linked_accounts") * 2' }, { features: { feature: (n, a, t) => (seen.push([n, a, t]), a === 'acc1' ? 4 : null) } });
    expect(fx.onEvent(e).f).toBe(8);
    expect(fx.onEvent(wd('w2', T0 + 1, 'acc2', '1')).f).toBeNull();
    expect(seen).toEqual([['graph.linked_accounts', 'acc1', T0], ['graph.linked_accounts', 'acc2', T0 + 1]]);
  });
});

const POLICY: PolicyDoc = {
  name: 'payments',
  thresholds: { review: 30, hold: 70, block: 150 },
  lists: { deny: [{ value: '0xbad', expiresAt: T0 + 60_000 }, { value: '0xevil' }] },
  rules: `
rule big "Large withdrawal" when type == "withdrawal" and amount > 10000 then review score 40 tags aml
rule devices "Several devices" when type == "withdrawal" and distinct(deviceId by account over 1d) >= 3 then hold score 20 tags ato, "account takeover"
rule denied when address in list("deny") then block tags aml, sanctions
rule small when type == "withdrawal" and amount < 1 then allow score 5`,
};

describe('decisions', () => {
  it('take the most severe outcome of fired rules and thresholds, sum scores, union tags, trace every condition', () => {
    const decisions: Decision[] = [];
    const engine = compilePolicy(POLICY).createEngine({ version: 3, onDecision: (d) => decisions.push(d) });
    for (const [i, dev] of ['d1', 'd2', 'd3'].entries()) engine.onEvent(login(`l${i}`, T0 + i, 'acc1', dev));
    const d = engine.evaluate(wd('w1', T0 + 10, 'acc1', '25000.75'));
    expect(d).toMatchObject({ id: 'payments:v3:w1', eventId: 'w1', ts: T0 + 10, type: 'withdrawal', account: 'acc1', accounts: ['acc1'], policy: 'payments', version: 3, score: 60, tags: ['aml', 'ato', 'account takeover'] });
    // rules: review + hold → hold; score 60 is under the hold threshold 70 but over review 30
    expect(d.outcome).toBe('hold');
    expect(d.fired.map((f) => f.rule)).toEqual(['big', 'devices']);
    expect(d.fired[0].conditions).toEqual([
      { text: 'type == "withdrawal"', subject: 'type', actual: 'withdrawal', op: '==', threshold: 'withdrawal', passed: true },
      { text: 'amount > 10000', subject: 'amount', actual: '25000.75', op: '>', threshold: 10000, passed: true },
    ]);
    expect(d.fired[1].conditions[1]).toEqual({ text: 'distinct(deviceId by account over 1d) >= 3', subject: 'distinct(deviceId by account over 1d)', actual: 3, op: '>=', threshold: 3, passed: true });
    expect(d.explanation).toBe('Hold withdrawal w1 of account acc1 (score 60): big (review, +40) because amount = 25000.75 > 10000; devices (hold, +20) because distinct(deviceId by account over 1d) = 3 >= 3.');
    expect(decisions.map((x) => x.id)).toEqual(['payments:v3:w1']); // logins were allowed and not emitted
    expect(engine.counts).toMatchObject({ allow: 3, hold: 1 });
  });

  it('raise the outcome when the total score crosses a threshold, and say so', () => {
    const p = compilePolicy({ name: 'th', thresholds: { hold: 50 }, rules: 'rule a when amount > 1 then review score 30\nrule b when amount > 2 then review score 25' });
    const d = p.createEngine().evaluate(wd('w', T0, 'x', '3'));
    expect([d.outcome, d.score]).toEqual(['hold', 55]);
    expect(d.explanation).toContain('score 55 reached the hold threshold 50');
  });

  it('allow decisions are emitted only with emitAllow, with a sentence too', () => {
    const seen: Decision[] = [];
    const e = compilePolicy(POLICY).createEngine({ emitAllow: true, onDecision: (d) => seen.push(d) });
    e.onEvent(wd('w0', T0, 'acc9', '5'));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ outcome: 'allow', score: 0, fired: [], id: 'payments:v0:w0' });
    expect(seen[0].explanation).toBe('Allowed withdrawal w0 of account acc9: no rule of policy payments fired.');
  });

  it('lists match until their expiry in event time, and can be changed at run time', () => {
    const engine = compilePolicy(POLICY).createEngine();
    const out = (id: string, ts: number, address: string) => engine.evaluate(wd(id, ts, 'a', '5', { address })).outcome;
    expect(out('1', T0, '0xbad')).toBe('block');
    expect(out('2', T0 + 59_999, '0xbad')).toBe('block');
    expect(out('3', T0 + 60_000, '0xbad')).toBe('allow'); // expired
    expect(out('4', T0 + 10 ** 9, '0xevil')).toBe('block'); // no expiry
    engine.addToList('deny', '0xnew', T0 + 100);
    expect(out('5', T0 + 50, '0xnew')).toBe('block');
    expect(out('6', T0 + 100, '0xnew')).toBe('allow');
    engine.setList('deny', []);
    expect(out('7', T0, '0xevil')).toBe('allow');
    const d = compilePolicy(POLICY).createEngine().evaluate(wd('8', T0, 'a', '5', { address: '0xevil' }));
    expect(d.fired[0].conditions[0]).toMatchObject({ actual: '0xevil', op: 'in', threshold: 'list("deny")', passed: true });
  });

  it('counts surveillance alerts per account once each, in event time, with a filter on the alert', () => {
    const alert = (id: string, ts: number, accounts: string[], typology: Alert['typology'], score: number, status: Alert['status'] = 'open'): Alert => ({
      id, typology, detector: typology, markets: ['BTCUSDT'], accounts, score, severity: 'high', startTime: ts, endTime: ts, detectedAt: ts, updatedAt: ts,
      evidence: { orderIds: [], tradeIds: [], orderCount: 0, tradeCount: 0, features: [] }, explanation: 'x', status,
    });
    const p = compilePolicy({ name: 'esc', rules: 'rule any when alerts(by account over 1h) >= 2 then hold\nrule spoof when alerts(by account over 1h where typology == "spoofing" and score >= 60) >= 1 then review' });
    const engine = p.createEngine();
    const fired = (ts: number, account = 'm1') => engine.evaluate(wd(`w${ts}`, ts, account, '1')).fired.map((f) => f.rule);
    engine.onAlert(alert('A1', T0, ['m1', 'm2'], 'spoofing', 50));
    engine.onAlert(alert('A1', T0 + 5, ['m1', 'm2'], 'spoofing', 70, 'updated')); // same alert: counts once for "any", and now passes "spoof"
    expect(fired(T0 + 10)).toEqual(['spoof']);
    engine.onAlert(alert('A2', T0 + 20, ['m1'], 'layering', 90));
    expect(fired(T0 + 30)).toEqual(['any', 'spoof']);
    expect(fired(T0 + 30, 'm2')).toEqual(['spoof']);
    expect(fired(T0 + 3_600_000 - 1)).toEqual(['any', 'spoof']);
    expect(fired(T0 + 3_600_000)).toEqual(['spoof']); // A1 counted for "any" at T0 has left the hour
    expect(fired(T0 + 3_600_005)).toEqual([]); // and for "spoof" at T0 + 5, when it first matched
  });

  it('the engine is an Operator: it runs inside the replay pipeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-op-'));
    const file = join(dir, 'e.ndjson');
    writeFileSync(file, [login('l1', T0, 'a', 'd'), wd('w1', T0 + 1, 'a', '20000'), wd('w2', T0 + 2, 'a', '0.5')].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const seen: Decision[] = [];
    const op: Operator = compilePolicy(POLICY).createEngine({ onDecision: (d) => seen.push(d) });
    const p = await replay([{ path: file }], { operators: [op] });
    expect(p.events).toBe(3);
    expect(seen.map((d) => [d.eventId, d.outcome])).toEqual([['w1', 'review']]);
  });
});

describe('policy files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  it('loads .rules, .yaml and .json; rejects bad documents with a reason', () => {
    writeFileSync(join(dir, 'my-policy.rules'), 'rule a when amount > 1 then hold\n');
    expect(loadPolicyFile(join(dir, 'my-policy.rules'))).toEqual({ name: 'my-policy', rules: 'rule a when amount > 1 then hold\n' });
    writeFileSync(join(dir, 'p.yaml'), 'name: py\nthresholds:\n  hold: 50\nlists:\n  deny:\n    - value: x\n      expiresAt: 5\nrules: |\n  rule a when amount > 1 then hold\n');
    expect(loadPolicyFile(join(dir, 'p.yaml'))).toEqual({ name: 'py', thresholds: { hold: 50 }, lists: { deny: [{ value: 'x', expiresAt: 5 }] }, rules: 'rule a when amount > 1 then hold\n' });
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ name: 'pj', rules: ['rule a when amount > 1 then hold', 'rule b when amount > 2 then block'] }));
    expect(compilePolicy(loadPolicyFile(join(dir, 'p.json'))).rules.map((r) => r.name)).toEqual(['a', 'b']);
    writeFileSync(join(dir, 'bad.yaml'), 'name: x\nthresholds:\n  stop: 5\nrules: "rule a when amount > 1 then hold"\n');
    expect(errorsOf(() => loadPolicyFile(join(dir, 'bad.yaml')))[0].message).toMatch(/thresholds: Unrecognized key/i);
    writeFileSync(join(dir, 'broken.yaml'), 'name: x\nrules: [unclosed\n');
    expect(errorsOf(() => loadPolicyFile(join(dir, 'broken.yaml')))[0].message).toMatch(/^not valid YAML/);
  });

  it('docs/schema/policy.schema.json is the schema the loader enforces', () => {
    const file = JSON.parse(readFileSync(new URL('../docs/schema/policy.schema.json', import.meta.url), 'utf8'));
    const { $id: _id, title: _title, ...schema } = file;
    expect(schema).toEqual(JSON.parse(JSON.stringify(policyJsonSchema())));
  });

  it('describes each rule for the tools around it', () => {
    const [info] = checkRules('rule r1 "desc"\n  when type == "withdrawal" and sum(amount by (account, asset) over 1d) > 5 and address in list("deny") and feature("g.x") > 1\n  then limit score 7 tags a, "b c"').rules;
    expect(info).toEqual({
      name: 'r1', description: 'desc', outcome: 'limit', score: 7, tags: ['a', 'b c'], line: 1, column: 1,
      condition: 'type == "withdrawal" and sum(amount by (account, asset) over 1d) > 5 and address in list("deny") and feature("g.x") > 1',
      fields: ['account', 'address', 'amount', 'asset', 'type'], aggregates: ['sum(amount by (account, asset) over 1d)'], lists: ['deny'], features: ['g.x'],
    });
  });
});
