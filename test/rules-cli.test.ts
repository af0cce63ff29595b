import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rules-cli-'));
const EXAMPLE = join(ROOT, 'examples/policies/exchange-baseline.yaml');
const T0 = Date.UTC(2024, 7, 1);

async function fails(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    await cli(args);
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
  throw new Error(`expected riskloop ${args.join(' ')} to fail`);
}

writeFileSync(join(dir, 'bad.rules'), 'rule a when amout > 5 then hold\n\nrule b when type == "withdrawl" then blok\n');
writeFileSync(join(dir, 'bad.yaml'), 'name: bad\nlists:\n  deny: []\nrules: |\n  rule a when address in list("denny") then block\n');

// Each case runs the CLI (a few seconds on a loaded machine): run them side by side.
describe.concurrent('riskloop rules check', () => {
  it('prints file:line:col: message for every error, in file positions for YAML, and exits 1', async () => {
    const r = await fails(['rules', 'check', join(dir, 'bad.rules'), join(dir, 'bad.yaml'), EXAMPLE]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${join(dir, 'bad.rules')}:1:13: unknown field "amout"; did you mean "amount"? [rule a]`,
      `${join(dir, 'bad.rules')}:3:21: unknown event type "withdrawl"; did you mean "withdrawal"? [rule b]`,
      `${join(dir, 'bad.rules')}:3:38: expected an outcome (allow, review, limit, hold, block), found "blok"; did you mean "block"? [rule b]`,
      // line 5 of the file, column 2 of the indent + 27 within the rule
      `${join(dir, 'bad.yaml')}:5:31: unknown list "denny"; did you mean "deny"? [rule a]`,
    ]);
    expect(r.stdout).toMatch(/exchange-baseline\.yaml: ok, 10 rules \(withdrawal_to_denied_address, /);
  });

  it('--json gives the diagnostics and rules as data', async () => {
    const r = await fails(['rules', 'check', '--json', join(dir, 'bad.rules'), join(dir, 'missing.rules')]);
    const out = JSON.parse(r.stdout);
    expect(out[0]).toMatchObject({ ok: false, errors: [{ line: 1, column: 13, rule: 'a' }, { line: 3, column: 21 }, { line: 3, column: 38 }] });
    expect(out[1]).toMatchObject({ ok: false, errors: [{ message: 'no such file' }] });
  });
});

describe.concurrent('riskloop rules test', () => {
  const events = join(dir, 'events.ndjson');
  const alerts = join(dir, 'alerts.ndjson');
  beforeAll(() => {
    const ev: object[] = [];
    let k = 0;
    const wd = (ts: number, account: string, amount: string, address = '0xok') => ev.push({ id: `w${k++}`, ts, type: 'withdrawal', accountId: account, asset: 'USDT', chain: 'ETH', address, amount });
    ev.push({ id: 'd1', ts: T0, type: 'deposit', accountId: 'carol', asset: 'USDT', chain: 'ETH', address: '0xin', amount: '500' });
    wd(T0 + 1000, 'alice', '25000'); // large stablecoin withdrawal: review
    wd(T0 + 2000, 'bob', '10', '0x8589427373d6d84e98730d7795d8f6f8731fda16'); // denied address: block
    wd(T0 + 3000, 'carol', '400'); // within an hour of a deposit: review
    wd(T0 + 4000, 'mallory', '5'); // after a surveillance alert: hold
    wd(T0 + 5000, 'dave', '5'); // nothing
    ev.push({ id: 'bad', ts: 'yesterday', type: 'withdrawal' }); // a dead letter, not a crash
    writeFileSync(events, ev.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const alert = {
      id: 'A1', typology: 'spoofing', detector: 'spoofing', markets: ['BTCUSDT'], accounts: ['mallory'], score: 70, severity: 'high', startTime: T0 + 500, endTime: T0 + 500, detectedAt: T0 + 500, updatedAt: T0 + 500,
      evidence: { orderIds: [], tradeIds: [], orderCount: 0, tradeCount: 0, features: [] }, explanation: 'Spoofing by mallory.', status: 'open',
    };
    writeFileSync(alerts, JSON.stringify(alert) + '\n');
  });

  it('streams events through the policy and summarises decisions by outcome and rule, with explanations', async () => {
    const out = join(dir, 'decisions.ndjson');
    const { stdout } = await cli(['rules', 'test', EXAMPLE, '--events', events, '--alerts', alerts, '--out', out, '--json', '--policy-version', '2']);
    const s = JSON.parse(stdout);
    expect(s).toMatchObject({ policy: 'exchange-baseline', events: 6, deadLetters: 1, alerts: 1, decisions: { allow: 2, review: 2, limit: 0, hold: 1, block: 1 } });
    const fired = Object.fromEntries(s.byRule.map((r: { rule: string; fired: number }) => [r.rule, r.fired]));
    expect(fired).toMatchObject({ withdrawal_to_denied_address: 1, large_stablecoin_withdrawal: 1, rapid_in_out: 1, withdrawal_under_alert: 1, order_flood: 0 });
    const decisions = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(decisions.map((d) => [d.eventId, d.outcome, d.id])).toEqual([
      ['w0', 'review', 'exchange-baseline:v2:w0'],
      ['w1', 'block', 'exchange-baseline:v2:w1'],
      ['w2', 'review', 'exchange-baseline:v2:w2'],
      ['w3', 'hold', 'exchange-baseline:v2:w3'],
    ]);
    expect(decisions[3].explanation).toBe('Hold withdrawal w3 of account mallory (score 80): withdrawal_under_alert (hold, +80) because alerts(by account over 1d) = 1 >= 1.');
    expect(s.examples.find((e: { rule: string }) => e.rule === 'withdrawal_to_denied_address').explanation).toContain('address = "0x8589427373d6d84e98730d7795d8f6f8731fda16" in list("deny_addresses")');
  });

  it('prints a table without --json; without alerts the escalation rule stays silent', async () => {
    const { stdout } = await cli(['rules', 'test', EXAMPLE, '--events', events]);
    expect(stdout).toMatch(/^policy exchange-baseline: 6 events, 1 dead letters/);
    expect(stdout).toMatch(/hold\s+0\n/);
    expect(stdout).toMatch(/withdrawal_under_alert\s+hold\s+0\n/);
    expect(stdout).toContain('[large_stablecoin_withdrawal] Review withdrawal w0 of account alice (score 30): large_stablecoin_withdrawal (review, +30) because asset = "USDT" in ["USDT", "USDC"] and amount = 25000 >= 10000.');
  });

  it('runs on simulator output', async () => {
    const sim = join(dir, 'sim');
    await cli(['simulate', '--seed', '3', '--duration', '1m', '--out', sim, '-q']);
    const { stdout } = await cli(['rules', 'test', EXAMPLE, '--events', join(sim, 'events.ndjson'), '--json']);
    const s = JSON.parse(stdout);
    const total = Object.values(s.decisions as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(s.events).toBeGreaterThan(5_000);
    expect(total).toBe(s.events);
  });

  it('fails clearly on a policy that does not compile or a missing events file', async () => {
    const bad = await fails(['rules', 'test', join(dir, 'bad.rules'), '--events', events]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.rules:1:13: unknown field "amout"');
    const missing = await fails(['rules', 'test', EXAMPLE, '--events', join(dir, 'nope.ndjson')]);
    expect(missing.stderr).toContain('nope.ndjson: no such file');
  });
});
