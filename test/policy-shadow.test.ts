import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../src/events/schema.js';
import { EventLabeler, PolicyRegistry, ShadowRunner } from '../src/policy/index.js';
import type { Decision, PolicyDoc } from '../src/rules/index.js';
import { openStore, type Store } from '../src/store/index.js';

const T0 = Date.UTC(2024, 0, 1);
const wd = (i: number, acc: string, amount: number): ExchangeEvent => ({ id: `w${i}`, ts: T0 + i * 1000, type: 'withdrawal', accountId: acc, asset: 'USDT', chain: 'TRON', address: 'TX', amount: String(amount), status: 'completed' }) as ExchangeEvent;
// amounts 1,000 … 100,000: 10 events
const EVENTS = Array.from({ length: 10 }, (_, i) => wd(i + 1, `a${i % 3}`, (i + 1) * 10_000));
const ACTIVE: PolicyDoc = { name: 'payouts', rules: 'rule big when type == "withdrawal" and amount > 75000 then hold score 80\n' };
const CANDIDATE: PolicyDoc = { name: 'payouts', rules: 'rule big when type == "withdrawal" and amount > 45000 then review score 40\n' };

describe('ShadowRunner', () => {
  it('emits only the active decisions and counts agreement with each shadow', () => {
    const real: Decision[] = [];
    const runner = new ShadowRunner({ active: { doc: ACTIVE, version: 1 }, shadows: [{ doc: CANDIDATE, version: 2 }], onDecision: (d) => real.push(d) });
    for (const e of EVENTS) runner.onEvent(e);
    // Active holds 80k, 90k, 100k; the shadow reviews 50k … 100k.
    expect(real.map((d) => `${d.version}:${d.eventId}:${d.outcome}`)).toEqual(['1:w8:hold', '1:w9:hold', '1:w10:hold']);
    const [s] = runner.stats();
    expect(s).toMatchObject({ policy: 'payouts', version: 2, activeVersion: 1, events: 10, agree: 4, disagree: 6, onlyShadow: 3, onlyActive: 0, pairs: { 'review→allow': 3, 'review→hold': 3 }, recorded: 0 });
    expect(s.examples[0]).toMatchObject({ eventId: 'w5', shadow: 'review', active: 'allow' });
  });

  it('scores both sides with ground truth when given', () => {
    const labeler = new EventLabeler([{ id: 'ep', typology: 'collateral_abuse', accounts: ['a1'], markets: [], startTime: T0, endTime: T0 + 60_000, orderIds: [], tradeIds: [] }]);
    const runner = new ShadowRunner({ active: { doc: ACTIVE, version: 1 }, shadows: [{ doc: CANDIDATE, version: 2 }], labeler });
    for (const e of EVENTS) runner.onEvent(e);
    const [s] = runner.stats();
    // a1 withdraws 20k, 50k, 80k: the active holds 80k, the shadow reviews 50k and 80k.
    expect(s.activeScore).toMatchObject({ decisions: 3, hitDecisions: 1, groupsCaught: 1 });
    expect(s.shadowScore).toMatchObject({ decisions: 6, hitDecisions: 2, groupsCaught: 1 });
  });

  it('needs a shadow version', () => {
    expect(() => new ShadowRunner({ shadows: [] })).toThrow(/at least one shadow version/);
  });
});

describe('ShadowRunner with the registry', () => {
  let store: Store;
  let reg: PolicyRegistry;
  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://' });
    reg = new PolicyRegistry(store);
    for (const [doc, who] of [[ACTIVE, 'alice'], [CANDIDATE, 'dan']] as const) {
      const v = await reg.createVersion({ doc, author: who });
      await reg.attachBacktest('payouts', v.version, { note: 'test' }, who);
      await reg.startShadow('payouts', v.version, who);
    }
    await reg.approve('payouts', 1, 'bob');
    await reg.promote('payouts', 1, 'alice');
  }, 120_000);
  afterAll(async () => store?.close());

  it('records every event where either side acts, in batches, and the registry agrees with its counts', async () => {
    const runner = new ShadowRunner({ active: { doc: ACTIVE, version: 1 }, shadows: [{ doc: CANDIDATE, version: 2 }], registry: reg, batchSize: 2 });
    for (const e of EVENTS) runner.onEvent(e);
    await runner.finish();
    const [s] = runner.stats();
    expect(s.recorded).toBe(6);
    const cmp = await reg.shadowComparison('payouts', 2);
    expect(cmp).toMatchObject({ total: 6, agree: 0, disagree: 6 });
    const stored = await reg.shadowDecisions('payouts', 2);
    expect(stored.map((d) => `${d.eventId}:${d.candidateOutcome}:${d.activeOutcome ?? 'none'}`)).toEqual(['w5:review:allow', 'w6:review:allow', 'w7:review:allow', 'w8:review:hold', 'w9:review:hold', 'w10:review:hold']);
    // Replaying the same events records nothing twice.
    const again = new ShadowRunner({ active: { doc: ACTIVE, version: 1 }, shadows: [{ doc: CANDIDATE, version: 2 }], registry: reg });
    for (const e of EVENTS) again.onEvent(e);
    await again.finish();
    expect(again.stats()[0].recorded).toBe(0);
  });

  it('surfaces a refused write when it finishes', async () => {
    // v1 is active, not in shadow: the registry refuses its phantom decisions.
    const runner = new ShadowRunner({ shadows: [{ doc: ACTIVE, version: 1 }], registry: reg });
    for (const e of EVENTS) runner.onEvent(e);
    await expect(runner.finish()).rejects.toThrow(/not in shadow/);
  });
});

describe('riskloop policy shadow (CLI)', () => {
  it('moves a backtested version into shadow, runs it over events and stores the comparison', async () => {
    const { execFile } = await import('node:child_process');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { promisify } = await import('node:util');
    const run = promisify(execFile);
    const dir = mkdtempSync(join(tmpdir(), 'rl-shadow-'));
    const events = join(dir, 'events.ndjson');
    writeFileSync(events, EVENTS.map((e) => JSON.stringify(e)).join('\n') + '\n');
    writeFileSync(join(dir, 'payouts.json'), JSON.stringify(CANDIDATE));
    const cli = (...args: string[]) => run('node', ['bin/riskloop.js', 'policy', ...args, '--store', join(dir, 'store')]);
    await cli('create', join(dir, 'payouts.json'), '--author', 'dan');
    await cli('backtest', 'payouts', '--version', '1', '--events', events, '--attach', '--actor', 'dan');
    const out = JSON.parse((await cli('shadow', 'payouts', '--version', '1', '--start', '--actor', 'dan', '--events', events, '--json')).stdout);
    // No active version: every shadow review disagrees with the implicit allow.
    expect(out.stats[0]).toMatchObject({ version: 1, activeVersion: null, events: 10, onlyShadow: 6, recorded: 6 });
    expect(out.comparisons[0]).toMatchObject({ total: 6, agree: 0, disagree: 6 });
    const history = (await cli('history', 'payouts')).stdout;
    expect(history).toMatch(/dan {2}shadow v1 backtested → shadow/);
    expect(history).toMatch(/dan {2}shadow-report v1/);
    const refused = await cli('shadow', 'payouts', '--events', events, '--start').then(() => null, (e: { code: number; stderr: string }) => e);
    expect(refused!.stderr).toMatch(/--start needs --version N and --actor NAME/);
  }, 240_000);
});
