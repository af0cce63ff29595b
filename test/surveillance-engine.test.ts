import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExchangeEvent } from '../src/events/schema.js';
import { parseEvent, type ExchangeEventInput } from '../src/events/index.js';
import { Alert, compareAlerts, finalAlerts, alertJsonSchema, type Alert as AlertT } from '../src/surveillance/alert.js';
import { SurveillanceEngine } from '../src/surveillance/engine.js';
import { AlertCollector, createSurveillance, formatSurveillanceSummary, surveillanceSummary } from '../src/surveillance/run.js';
import { loadConfig, parseConfig, stripJsonComments, type SurveillanceConfigInput } from '../src/surveillance/config.js';
import { partitionKey, Partitioner } from '../src/surveillance/partitioner.js';
import { defineDetector, baseParams, policyFrom, type Detector } from '../src/surveillance/detector.js';
import { BUILTIN_DETECTORS } from '../src/surveillance/detectors/index.js';
import { replay } from '../src/pipeline/replay.js';
import { DECODERS } from '../src/sources/registry.js';
import type { DeadLetter } from '../src/pipeline/types.js';
import { z } from 'zod';
import { syntheticExchange, jitter } from './helpers/surveillance-data.js';

function ev(x: ExchangeEventInput): ExchangeEvent {
  const r = parseEvent(x);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}

/**
 * The two reference detectors only (other built-ins switched off), so these tests pin the engine core;
 * self_trade observes every self-trade (minTrades 1, its default asks for 2) so each one is an observation.
 */
const REFERENCE = ['self_trade', 'fat_finger'];
function referenceOnly(cfg: SurveillanceConfigInput = {}): SurveillanceConfigInput {
  const off = Object.fromEntries(BUILTIN_DETECTORS.filter((d) => !REFERENCE.includes(d.name)).map((d) => [d.name, { enabled: false }]));
  return { ...cfg, detectors: { ...off, self_trade: { minTrades: 1 }, ...(cfg.detectors ?? {}) } };
}

async function run(
  events: ExchangeEvent[],
  opts: ConstructorParameters<typeof SurveillanceEngine>[0] & { allDetectors?: boolean } = {},
): Promise<{ transitions: AlertT[]; engine: SurveillanceEngine; dead: DeadLetter[] }> {
  const col = new AlertCollector();
  const dead: DeadLetter[] = [];
  const config = opts.allDetectors ? opts.config : referenceOnly(opts.config as SurveillanceConfigInput | undefined);
  const engine = new SurveillanceEngine({ ...opts, config, sinks: [col, ...(opts.sinks ?? [])], onDeadLetter: (d) => dead.push(d) });
  for (const e of events) engine.onEvent(e);
  await engine.finish();
  return { transitions: col.transitions, engine, dead };
}

const T0 = 1_723_161_600_000;
let n = 0;
const selfTrade = (acct: string, ts: number, market = 'BTCUSDT', extra: Partial<ExchangeEventInput> = {}) =>
  ev({ type: 'trade', id: `st${n++}`, ts, market, tradeId: `tr${n}`, price: '60000', size: '0.5', aggressor: 'buy', makerAccountId: acct, takerAccountId: acct, makerOrderId: `m${n}`, takerOrderId: `k${n}`, ...extra } as ExchangeEventInput);

describe('alert format', () => {
  it('exports a JSON Schema and validates emitted alerts', async () => {
    const schema = alertJsonSchema();
    expect(schema).toHaveProperty('properties.evidence');
    const { transitions } = await run([selfTrade('a', T0), selfTrade('a', T0 + 1000)]);
    expect(transitions.length).toBeGreaterThan(0);
    for (const a of transitions) expect(Alert.safeParse(a).success).toBe(true);
  });
});

describe('episodes: one alert that grows', () => {
  it('opens once, grows, is not repeated per event, and closes after the inactivity gap', async () => {
    const events = [];
    for (let i = 0; i < 50; i++) events.push(selfTrade('acct-1', T0 + i * 1000)); // 50 self-trades, 1 s apart
    // a second burst after more than the 60 s gap -> a second alert
    for (let i = 0; i < 3; i++) events.push(selfTrade('acct-1', T0 + 200_000 + i * 1000));
    events.push(ev({ type: 'bbo', id: 'tick', ts: T0 + 400_000, market: 'BTCUSDT', bidPrice: '1', bidSize: '1', askPrice: '2', askSize: '1' }));
    const { transitions } = await run(events, { config: { watermark: { maxOutOfOrderMs: 0 } } });
    const finals = finalAlerts(transitions);
    expect(finals).toHaveLength(2);
    const [first, second] = finals;
    expect(first.status).toBe('closed');
    expect(first.typology).toBe('wash_trading');
    expect(first.variant).toBe('self_trade');
    expect(first.accounts).toEqual(['acct-1']);
    expect(first.markets).toEqual(['BTCUSDT']);
    expect(first.evidence.tradeCount).toBe(50);
    expect(first.startTime).toBe(T0);
    expect(first.endTime).toBe(T0 + 49_000);
    expect(first.detectedAt).toBe(T0);
    expect(first.updatedAt).toBe(T0 + 49_000 + 60_000); // closed at last observation + gap
    expect(first.explanation).toMatch(/acct-1 traded with itself 50 times in BTCUSDT/);
    expect(first.evidence.features.find((f) => f.name === 'self_trades')).toMatchObject({ value: 50, threshold: 1, op: '>=', passed: true });
    // far fewer transitions than events: open, a few updates (severity rises / interval), close
    const firstTransitions = transitions.filter((a) => a.id === first.id);
    expect(firstTransitions[0].status).toBe('open');
    expect(firstTransitions.at(-1)!.status).toBe('closed');
    expect(firstTransitions.length).toBeLessThan(8);
    // the score only grows
    for (let i = 1; i < firstTransitions.length; i++) expect(firstTransitions[i].score).toBeGreaterThanOrEqual(firstTransitions[i - 1].score);
    expect(second.evidence.tradeCount).toBe(3);
    expect(second.id).not.toBe(first.id);
  });

  it('gives the same ids on every run', async () => {
    const { events } = syntheticExchange(5, { steps: 8000 });
    const a = finalAlerts((await run(events)).transitions);
    const b = finalAlerts((await run(events)).transitions);
    expect(a.length).toBeGreaterThan(0);
    expect(a.map((x) => x.id)).toEqual(b.map((x) => x.id));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

describe('reference detectors on a synthetic exchange', () => {
  it('finds the injected self-trades and fat fingers, with evidence and explanations', async () => {
    const { events, injected } = syntheticExchange(1, { steps: 30_000 });
    const { transitions, engine } = await run(events);
    const finals = finalAlerts(transitions);
    const self = finals.filter((a) => a.variant === 'self_trade');
    const fat = finals.filter((a) => a.typology === 'fat_finger');
    expect(injected.selfTrades.length).toBeGreaterThan(2);
    // bursts of at least confirmTrades (3) self-trades must alert; shorter ones only when they dominate the account's volume
    expect(injected.selfTrades.filter((s) => s.tradeIds.length >= 3).length).toBeGreaterThan(1);
    for (const inj of injected.selfTrades.filter((s) => s.tradeIds.length >= 3)) {
      const hit = self.find((a) => a.accounts.includes(inj.account) && a.markets.includes(inj.market) && a.evidence.tradeIds.includes(inj.tradeIds[0]));
      expect(hit, `self-trade burst of ${inj.account} in ${inj.market}`).toBeDefined();
    }
    // the first fat finger of each account in each market must alert (later ones by the same account
    // may be absorbed by its own deviation history: an account that routinely quotes far away)
    const firsts = injected.fatFingers.filter((f, i, all) => all.findIndex((g) => g.account === f.account && g.market === f.market) === i);
    expect(firsts.length).toBeGreaterThan(5);
    for (const inj of firsts) {
      const hit = fat.find((a) => a.accounts.includes(inj.account) && a.markets.includes(inj.market) && a.evidence.orderIds.includes(inj.orderId));
      expect(hit, `fat finger ${inj.orderId}`).toBeDefined();
      expect(hit!.evidence.book?.bids.length).toBeGreaterThan(0);
      expect(hit!.evidence.features.find((f) => f.name === 'deviation_pct')?.passed).toBe(true);
      expect(hit!.explanation).toMatch(/above|below/);
    }
    // no false fat-finger alerts on normal flow: every fat-finger alert is an injected one
    const injectedIds = new Set(injected.fatFingers.map((f) => f.orderId));
    for (const a of fat) expect(a.evidence.orderIds.some((o) => injectedIds.has(o))).toBe(true);
    expect(engine.stats().detectorErrors).toEqual({});
  });
});

describe('watermark in the engine', () => {
  it('restores event-time order: a jittered stream gives the same alerts as the ordered one', async () => {
    const { events } = syntheticExchange(2, { steps: 10_000 });
    const ordered = finalAlerts((await run(events)).transitions);
    const shuffled = finalAlerts((await run(jitter(events, 9, 200), { config: { watermark: { maxOutOfOrderMs: 250 } } })).transitions);
    expect(shuffled).toEqual(ordered);
  });

  it('processes late events within the allowed lateness and dead-letters later ones', async () => {
    const events = [selfTrade('x', T0), selfTrade('x', T0 + 10_000), selfTrade('y', T0 + 5_000), selfTrade('z', T0 - 120_000)];
    const { transitions, engine, dead } = await run(events, { config: { watermark: { maxOutOfOrderMs: 0, allowedLatenessMs: 60_000 } } });
    expect(engine.stats().lateEvents).toBe(1);
    expect(dead).toHaveLength(1);
    expect(dead[0].reason).toMatch(/^late event: 130000 ms behind the watermark/);
    expect(JSON.parse(dead[0].raw).id).toBe(events[3].id);
    expect(finalAlerts(transitions).map((a) => a.accounts[0])).toEqual(['x', 'y']);
  });
});

describe('config', () => {
  it('switches a detector off', async () => {
    const { events } = syntheticExchange(3, { steps: 8000 });
    const on = finalAlerts((await run(events)).transitions);
    expect(on.some((a) => a.typology === 'fat_finger')).toBe(true);
    const off = finalAlerts((await run(events, { config: { detectors: { fat_finger: { enabled: false } } } })).transitions);
    expect(off.some((a) => a.typology === 'fat_finger')).toBe(false);
    expect(off).toEqual(on.filter((a) => a.typology !== 'fat_finger'));
  });

  it('allow-lists and suppressions drop alerts and count them', async () => {
    const events = [selfTrade('mm-1', T0), selfTrade('acct-2', T0 + 1), selfTrade('acct-3', T0 + 2), selfTrade('acct-3', T0 + 500_000)];
    const { transitions, engine } = await run(events, {
      config: { allow: { accounts: ['mm-1'] }, suppress: [{ typology: 'wash_trading', account: 'acct-3', until: T0 + 100_000, reason: 'known test account' }] },
    });
    const finals = finalAlerts(transitions);
    // acct-3's later episode starts after the suppression expired
    expect(finals.map((a) => [a.accounts[0], a.startTime])).toEqual([
      ['acct-2', T0 + 1],
      ['acct-3', T0 + 500_000],
    ]);
    expect(engine.stats().alerts.suppressedBy).toEqual({ 'allow-listed account': 1, 'suppression: known test account': 1 });
  });

  it('passes parameters, rejects typos, and reads JSON with comments', async () => {
    expect(() => parseConfig({ watermrk: {} })).toThrow(/watermrk/);
    expect(() => new SurveillanceEngine({ config: { detectors: { self_trade: { minTradez: 3 } } } })).toThrow(/minTradez/);
    expect(() => new SurveillanceEngine({ config: { detectors: { nope: {} } } })).toThrow(/unknown detector "nope"/);
    const events = [selfTrade('a', T0), selfTrade('a', T0 + 1), selfTrade('b', T0 + 2), selfTrade('b', T0 + 3), selfTrade('b', T0 + 4)];
    const finals = finalAlerts((await run(events, { config: { detectors: { self_trade: { minTrades: 3 } } } })).transitions);
    expect(finals.map((a) => a.accounts[0])).toEqual(['b']);
    expect(stripJsonComments('{"a": "x//y", // c\n /* d */ "b": [1,2,],}')).toBe('{"a": "x//y", \n  "b": [1,2]}');
    const dir = await mkdtemp(join(tmpdir(), 'rl-'));
    await writeFile(join(dir, 'c.json'), '{\n // test\n "detectors": {"fat_finger": {"enabled": false,},},\n}');
    const cfg = await loadConfig(join(dir, 'c.json'));
    expect(cfg.detectors.fat_finger).toEqual({ enabled: false });
    // the documented example config is valid
    const example = await loadConfig(new URL('../docs/examples/surveillance.config.json', import.meta.url).pathname);
    expect(() => new SurveillanceEngine({ config: example })).not.toThrow();
  });
});

describe('detector plug-in API', () => {
  it('runs a custom detector with the shared state and emitter', async () => {
    const params = z.object({ ...baseParams, minScore: baseParams.minScore.default(0), maxCancels: z.number().default(3).describe('cancels per episode') });
    class CancelCounter implements Detector {
      readonly name = 'cancel_counter';
      readonly typology = 'quote_stuffing' as const;
      readonly eventTypes = ['order.cancelled'] as const;
      readonly policy;
      constructor(private readonly p: z.output<typeof params>) {
        this.policy = policyFrom(p);
      }
      onEvent(e: ExchangeEvent, ctx: Parameters<Detector['onEvent']>[1]): void {
        if (e.type !== 'order.cancelled') return;
        // state before the event: the order being cancelled is still resting
        const resting = ctx.books.order(e.market, e.orderId);
        const ep = ctx.alerts.episode(this, e.accountId, e);
        ep.addAccount(e.accountId).addMarket(e.market).addOrder(e.orderId);
        ep.data.n = (ep.data.n ?? 0) + 1;
        ep.data.resting = (ep.data.resting ?? 0) + (resting ? 1 : 0);
        if (ep.offer(ep.data.n * 10)) ep.feature('cancels', ep.data.n, this.p.maxCancels, '>');
        if (ep.data.n > this.p.maxCancels) ctx.alerts.commit(ep, e.ts);
      }
      explain(ep: Parameters<Detector['explain']>[0]): string {
        return `${ep.accounts[0]} cancelled ${ep.data.n} orders (${ep.data.resting} were resting).`;
      }
    }
    const def = defineDetector({ name: 'cancel_counter', typology: 'quote_stuffing', description: 'test', citation: 'none', params, enabledByDefault: true, create: (p) => new CancelCounter(p) });
    const events: ExchangeEvent[] = [];
    for (let i = 0; i < 5; i++) {
      events.push(ev({ type: 'order.placed', id: `p${i}`, ts: T0 + i, market: 'X', accountId: 'q', orderId: `o${i}`, side: 'buy', orderType: 'limit', price: '1', size: '1' }));
      events.push(ev({ type: 'order.cancelled', id: `c${i}`, ts: T0 + i, market: 'X', accountId: 'q', orderId: `o${i}` }));
    }
    const { transitions } = await run(events, { registry: [...BUILTIN_DETECTORS, def as never] });
    const finals = finalAlerts(transitions);
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({ detector: 'cancel_counter', typology: 'quote_stuffing', accounts: ['q'], detectedAt: T0 + 3, explanation: 'q cancelled 5 orders (5 were resting).' });
  });
});

describe('detector dispatch', () => {
  it('calls onEvent and afterEvent only for their declared types, with the event time, price and size parsed once', async () => {
    const calls: string[] = [];
    const probe: Detector = {
      name: 'probe',
      typology: 'quote_stuffing',
      eventTypes: ['order.placed', 'trade'],
      onEventTypes: ['order.placed'],
      afterEventTypes: ['trade'],
      policy: { gapMs: 1000, minScore: 100 },
      onEvent: (e, ctx) => calls.push(`on ${e.type} ${ctx.ts} ${ctx.px} ${ctx.sz} ${ctx.seq}`),
      afterEvent: (e, ctx) => calls.push(`after ${e.type} ${ctx.ts} ${ctx.px} ${ctx.sz} ${ctx.seq}`),
      explain: () => '',
    };
    const def = defineDetector({ name: 'probe', typology: 'quote_stuffing', description: 'test', citation: 'none', params: z.object({ ...baseParams }), enabledByDefault: true, create: () => probe });
    const events: ExchangeEvent[] = [
      ev({ type: 'order.placed', id: 'p0', ts: T0, market: 'X', accountId: 'q', orderId: 'o0', side: 'buy', orderType: 'limit', price: '1.50', size: '2' }),
      ev({ type: 'order.cancelled', id: 'c0', ts: T0 + 1, market: 'X', accountId: 'q', orderId: 'o0' }),
      ev({ type: 'trade', id: 't0', ts: T0 + 2, market: 'X', tradeId: 't0', price: '0.3', size: '0.1', aggressor: 'buy' }),
    ];
    const off = Object.fromEntries(BUILTIN_DETECTORS.map((d) => [d.name, { enabled: false }]));
    await run(events, { registry: [...BUILTIN_DETECTORS, def as never], config: { detectors: off } });
    expect(calls).toEqual([`on order.placed ${T0} 1.5 2 1`, `after trade ${T0 + 2} 0.3 0.1 3`]);
  });
});

/**
 * Worker threads run the compiled dist/ (tests run the TypeScript sources): a stale build would make
 * workers disagree with the main thread for reasons unrelated to the engine, so say so plainly.
 */
function assertDistFresh(): void {
  const newest = (dir: string): number => {
    let t = 0;
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, f.name);
      t = Math.max(t, f.isDirectory() ? newest(p) : f.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
    }
    return t;
  };
  const src = Math.max(newest(new URL('../src/surveillance', import.meta.url).pathname), newest(new URL('../src/stream', import.meta.url).pathname));
  const dist = statSync(new URL('../dist/surveillance/worker.js', import.meta.url).pathname).mtimeMs;
  if (dist < src) throw new Error('dist/ is older than src/surveillance or src/stream: run `npm run build` before the worker tests');
}

describe('partitioning across worker threads', () => {
  it('groups spot and perpetual of one underlying', () => {
    expect(partitionKey('BTCUSDT-PERP')).toBe('BTCUSDT');
    expect(partitionKey('BTC-USDT-SWAP')).toBe('BTCUSDT');
    expect(partitionKey('BTCUSDT_240927')).toBe('BTCUSDT');
    // the index a perpetual's mark and a spot's fat-finger reference use lives with them
    expect(partitionKey('ETHUSDT-INDEX')).toBe('ETHUSDT');
    const p = new Partitioner(3);
    expect(p.ofMarket('BTCUSDT')).toBe(p.ofMarket('BTCUSDT-PERP'));
  });

  const workerScript = new URL('../dist/surveillance/worker.js', import.meta.url);
  it.skipIf(!existsSync(workerScript))('workers=3 produces exactly the alerts of workers=1', async () => {
    assertDistFresh();
    const { events } = syntheticExchange(4, { markets: 9, steps: 40_000 });
    const input = jitter(events, 3, 100);
    const one = await run(input);
    const three = await run(input, { workers: 3 });
    const f1 = finalAlerts(one.transitions);
    const f3 = finalAlerts(three.transitions);
    expect(f1.length).toBeGreaterThan(5);
    expect(new Set(f1.map((a) => a.markets[0])).size).toBeGreaterThan(3);
    expect(JSON.stringify(f3)).toBe(JSON.stringify(f1));
    // every transition, not only the final state
    expect(JSON.stringify([...three.transitions].sort(compareAlerts))).toBe(JSON.stringify([...one.transitions].sort(compareAlerts)));
    const s1 = one.engine.stats();
    const s3 = three.engine.stats();
    expect(s3.workers).toBe(3);
    expect(s3.alerts).toEqual(s1.alerts);
    // account-level events are broadcast, market events are not
    const logins = input.filter((e) => e.type === 'login').length;
    expect(s3.events).toBe(s1.events + 2 * logins);
  });

  it.skipIf(!existsSync(workerScript))('with every built-in detector enabled, workers=3 still equals workers=1', async () => {
    assertDistFresh();
    const { events } = syntheticExchange(8, { markets: 9, steps: 30_000 });
    const input = jitter(events, 5, 100);
    const one = await run(input, { allDetectors: true });
    const three = await run(input, { allDetectors: true, workers: 3 });
    expect(one.engine.stats().detectorErrors).toEqual({});
    expect(JSON.stringify(finalAlerts(three.transitions))).toBe(JSON.stringify(finalAlerts(one.transitions)));
  });
});

describe('one code path for replay and in memory', () => {
  it('replaying the stream as an NDJSON file gives exactly the alerts of the in-memory run, every detector on', async () => {
    const { events } = syntheticExchange(11, { markets: 6, steps: 20_000 });
    const input = jitter(events, 7, 100);
    const mem = await run(input, { allDetectors: true });
    const dir = await mkdtemp(join(tmpdir(), 'rl-replay-'));
    const file = join(dir, 'events.ndjson');
    await writeFile(file, input.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const col = new AlertCollector();
    const engine = new SurveillanceEngine({ sinks: [col] });
    await replay([{ path: file, format: 'ndjson' }], { operators: [engine] });
    await engine.finish();
    expect(engine.stats().events).toBe(mem.engine.stats().events);
    expect(mem.transitions.length).toBeGreaterThan(5);
    expect(JSON.stringify(col.transitions)).toBe(JSON.stringify(mem.transitions));
  });
});

describe('plug-ins and workers', () => {
  const workerScript = new URL('../dist/surveillance/worker.js', import.meta.url);
  it.skipIf(!existsSync(workerScript))('loads plug-in detectors in the main thread and in every worker, with identical alerts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rl-plugin-'));
    assertDistFresh();
    const cfgPath = join(dir, 'config.json');
    await writeFile(cfgPath, JSON.stringify(referenceOnly({ plugins: [new URL('./fixtures/surveillance-plugin.mjs', import.meta.url).pathname], detectors: { large_trade: { minSize: 0.5 } } })));
    const { events } = syntheticExchange(6, { markets: 6, steps: 6000 });
    const results: AlertT[][] = [];
    for (const workers of [1, 2]) {
      const col = new AlertCollector();
      const s = await createSurveillance({ configPath: cfgPath, workers, sinks: [col] });
      for (const e of events) s.engine.onEvent(e);
      await s.engine.finish();
      expect(s.engine.detectorNames).toEqual(['self_trade', 'fat_finger', 'large_trade']);
      results.push(finalAlerts(col.transitions));
    }
    expect(results[0].filter((a) => a.detector === 'large_trade').length).toBeGreaterThan(1);
    expect(JSON.stringify(results[1])).toBe(JSON.stringify(results[0]));
  });

  it('refuses detector objects that worker threads could not load', () => {
    const custom = { ...BUILTIN_DETECTORS[0], name: 'custom' };
    expect(() => new SurveillanceEngine({ registry: [...BUILTIN_DETECTORS, custom], workers: 2 })).toThrow(/plugins/);
  });
});

describe('real captures', () => {
  const names = ['binance-spot-btcusdt-20240808.ndjson.gz', 'binance-usdm-btcusdt-20240808.ndjson.gz'];
  const files = names.map((f) => new URL(`../../shared/data/market/${f}`, import.meta.url).pathname);
  const haveFiles = files.every((f) => existsSync(f));
  const haveDecoder = 'binance' in DECODERS;
  if (!haveDecoder) console.warn('real-capture surveillance test skipped: the "binance" format is not registered in DECODERS yet');
  if (!haveFiles) console.warn('real-capture surveillance test skipped: ../shared/data/market captures not found');
  // The two captures cover the same minutes; replayed one after the other, the second would be
  // minutes "late". Each file therefore gets its own engine run (as two live feeds would).
  for (const file of files) {
    it.skipIf(!haveDecoder || !haveFiles)(`runs both reference detectors over ${file.split('/').pop()} without errors or an alert storm`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rl-'));
      const alertsPath = join(dir, 'alerts.ndjson');
      // end to end through the replay pipeline
      const s = await createSurveillance({ alertsPath, config: parseConfig(referenceOnly()) });
      const p = await replay([{ path: file, format: 'binance' }], { operators: [s.engine] });
      const summary = surveillanceSummary(s);
      expect(p.events).toBeGreaterThan(40_000);
      expect(summary.engine.detectorErrors).toEqual({});
      expect(summary.engine.events + summary.engine.lateDeadLetters).toBe(p.events);
      // no storm: at most a handful of alerts per hour of data
      const hours = Math.max(1, Object.keys(summary.alerts.byHour).length);
      expect(summary.alerts.alerts / hours).toBeLessThan(20);
      // every alert is valid and explains itself with its values
      const lines = (await readFile(alertsPath, 'utf8')).split('\n').filter(Boolean);
      for (const l of lines) {
        const a = Alert.parse(JSON.parse(l));
        expect(a.explanation.length).toBeGreaterThan(20);
        expect(a.evidence.features.length).toBeGreaterThan(0);
      }
      // engine throughput on the decoded events in memory
      const events: ExchangeEvent[] = [];
      await replay([{ path: file, format: 'binance' }], { operators: [{ onEvent: (e) => void events.push(e) }] });
      let best = 0;
      for (let rep = 0; rep < 3; rep++) {
        const engine = new SurveillanceEngine({ config: referenceOnly() });
        const t0 = performance.now();
        for (const e of events) engine.onEvent(e);
        await engine.finish();
        best = Math.max(best, events.length / ((performance.now() - t0) / 1000));
      }
      console.log(`${file.split('/').pop()}: ${p.events} events; engine ${Math.round(best)} events/s in memory\n${formatSurveillanceSummary(summary)}`);
    });
  }
});
