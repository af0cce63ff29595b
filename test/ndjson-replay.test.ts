import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RecentIds } from '../src/pipeline/dedupe.js';
import { describe, expect, it } from 'vitest';
import { replay } from '../src/pipeline/replay.js';
import { SummaryCounter } from '../src/pipeline/summary.js';
import type { DeadLetter } from '../src/pipeline/types.js';
import { cli } from './helpers/cli.js';

const good = [
  { type: 'trade', id: 't1', ts: 1723161256322, market: 'BTCUSDT', tradeId: '1', price: '61800.30', size: '0.006', aggressor: 'buy' },
  { type: 'order.placed', id: 'o1', ts: 1723161256323, market: 'BTCUSDT-PERP', accountId: 'A', orderId: '9', side: 'sell', orderType: 'limit', timeInForce: 'IOC', price: '61801.0', size: '1.000', reduceOnly: true, leverage: 20 },
  { type: 'login', id: 'l1', ts: 1723161256324, accountId: 'A', sessionId: 's', deviceId: 'dev-1', ip: '10.0.0.1', country: 'DE' },
  { type: 'loan.borrow', id: 'b1', ts: 1723161256325, accountId: 'A', loanId: 'L1', asset: 'USDT', amount: '1000.00', collateralAsset: 'BTC', collateralAmount: '0.05' },
];
const bad = ['{"type":"trade","id":"t2"', '{"type":"trade","id":"t3","ts":1,"market":"X","tradeId":"1","price":"-5","size":"1","aggressor":"buy"}', '\u0000\u0001binary'];

function fixture(): string {
  const lines = [...good.slice(0, 2).map((e) => JSON.stringify(e)), bad[0], JSON.stringify(good[2]), bad[1], '', bad[2], JSON.stringify(good[3])];
  return lines.join('\n') + '\n';
}

describe('canonical NDJSON', () => {
  it('accepts good lines, dead-letters bad ones with reason and line number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-'));
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, fixture());
    const counter = new SummaryCounter();
    const dead: DeadLetter[] = [];
    await replay([{ path: file }], { operators: [counter, { onEvent() {}, onDeadLetter: (d) => dead.push(d) }] });
    const s = counter.summary();
    expect(s.accepted).toBe(4);
    expect(s.rejected).toBe(3);
    expect(dead.map((d) => d.line)).toEqual([3, 5, 7]);
    expect(dead[0].reason).toMatch(/invalid JSON/);
    expect(dead[1].reason).toMatch(/field price/);
    expect(dead[1].type).toBe('trade');
    expect(dead.every((d) => d.source === 'events.ndjson' && d.format === 'ndjson')).toBe(true);
    expect(s.acceptedByTypeAndMarket['order.placed']).toEqual({ 'BTCUSDT-PERP': 1 });
    expect(s.acceptedByMarket['-']).toBe(2);
  });

  it('replays gzip and stdin through the CLI with identical results, and writes events exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-'));
    const gz = join(dir, 'events.ndjson.gz');
    writeFileSync(gz, gzipSync(fixture()));
    const dl = join(dir, 'dead.ndjson');
    const out = join(dir, 'out.ndjson');
    const a = JSON.parse((await cli(['replay', gz, '--json', '--dead-letters', dl, '--out', out])).stdout);
    const b = JSON.parse((await cli(['replay', '-', '--json'], { input: fixture() })).stdout);
    expect(a).toEqual(b);
    expect(a.accepted).toBe(4);
    expect(a.rejected).toBe(3);
    const dead = readFileSync(dl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(dead.map((d: DeadLetter) => [d.line, d.source])).toEqual([[3, 'events.ndjson.gz'], [5, 'events.ndjson.gz'], [7, 'events.ndjson.gz']]);
    const written = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(written[0].price).toBe('61800.30');
    expect(written[1].size).toBe('1.000');
    expect(written[3].collateralAmount).toBe('0.05');
  });

  it('prints a human summary by type and market', async () => {
    const { stdout } = await cli(['replay', '-'], { input: fixture() });
    expect(stdout).toMatch(/accepted 4, rejected 3/);
    expect(stdout).toMatch(/BTCUSDT-PERP/);
    expect(stdout).toMatch(/invalid JSON\s+2/);
  });

  it('fails clearly on a missing file or an unknown format', async () => {
    await expect(cli(['replay', '/nonexistent/file.ndjson'])).rejects.toMatchObject({ stderr: expect.stringMatching(/no such file/i) });
    await expect(cli(['replay', '-', '--format', 'nope'], { input: '' })).rejects.toMatchObject({ stderr: expect.stringMatching(/Allowed choices/) });
  });
});

describe('deduplication by event id', () => {
  it('drops repeated ids, says so, and keeps counting them apart from rejects', async () => {
    const e = JSON.stringify(good[0]);
    const input = [e, JSON.stringify(good[1]), e, e].join('\n');
    const a = JSON.parse((await cli(['replay', '-', '--json', '--dead-letters', '/dev/null'], { input })).stdout);
    expect([a.accepted, a.rejected, a.duplicates]).toEqual([2, 0, 2]);
    const off = JSON.parse((await cli(['replay', '-', '--json', '--dedupe-window', '0'], { input })).stdout);
    expect([off.accepted, off.duplicates]).toEqual([4, 0]);
    const { stdout } = await cli(['replay', '-', '--json', '--dead-letters', '-'], { input });
    expect(stdout).toMatch(/"line":3,"format":"ndjson","reason":"duplicate event id t1"/);
  });
});

describe('format sniffing', () => {
  it('recognises each format from its first lines', async () => {
    const { sniffFormat } = await import('../src/sources/registry.js');
    expect(sniffFormat('1723161253937085768 {"stream":"btcusdt@depth@100ms","data":{}}')).toBe('binance');
    expect(sniffFormat('1723161253937085768 {"lastUpdateId":5,"bids":[],"asks":[]}')).toBe('binance');
    expect(sniffFormat('{"stream":"btcusdt@trade","data":{"e":"trade"}}')).toBe('binance');
    expect(sniffFormat('{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}')).toBe('binance');
    expect(sniffFormat('{"u":400900217,"s":"BNBUSDT","b":"25.35","B":"31.21","a":"25.36","A":"40.66"}')).toBe('binance');
    expect(sniffFormat(['configuration: {"log":{}}', '1649290077.519818: {"event":"subscribe"}'])).toBe('bitget');
    expect(sniffFormat('wss://ws.bitget.com/spot/v1/stream <-> 1649290076.511507')).toBe('bitget');
    expect(sniffFormat('{"type":"trade","id":"t","ts":1}')).toBe('ndjson');
    expect(sniffFormat('34200.004241176,1,16113575,18,5853300,1')).toBe('lobster');
    expect(sniffFormat('trade_id,price,qty,time')).toBe('csv');
    expect(sniffFormat('')).toBeUndefined();
  });
});

describe('decoding in a worker thread', () => {
  async function run(path: string, decodeInWorker: boolean) {
    const counter = new SummaryCounter();
    const dead: DeadLetter[] = [];
    const events: string[] = [];
    const progress = await replay([{ path }], {
      decodeInWorker,
      operators: [counter, { onEvent: (e) => events.push(JSON.stringify(e)), onDeadLetter: (d) => dead.push(d) }],
    });
    return { summary: counter.summary(), dead, events, progress };
  }

  it('gives the same summary, dead letters and events as the engine thread, in the same order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-'));
    const file = join(dir, 'mixed.ndjson');
    // Good, bad, duplicate, defaulted and extra-field lines, repeated so that they span several batches.
    const extra = JSON.stringify({ ...good[0], id: 'tx', note: 'dropped' });
    const defaulted = JSON.stringify({ ...good[1], id: 'od', timeInForce: undefined });
    const block = fixture() + [extra, defaulted, JSON.stringify(good[0])].join('\n') + '\n';
    writeFileSync(file, block.repeat(3000));
    const [main, worker] = [await run(file, false), await run(file, true)];
    expect(worker.summary).toEqual(main.summary);
    expect(worker.dead).toEqual(main.dead);
    expect(worker.events).toEqual(main.events);
    expect(worker.progress).toEqual(main.progress);
    expect(main.summary.rejected).toBe(9000);
    expect(main.summary.duplicates).toBeGreaterThan(0);
    expect(main.dead.some((d) => d.reason.startsWith('duplicate event id'))).toBe(true);
    expect(main.events.filter((e) => e.includes('"id":"od"')).every((e) => e.includes('"timeInForce":"GTC"'))).toBe(true);
  });

  it('does the same on a real Binance capture', async () => {
    const path = join(import.meta.dirname, '../../shared/data/market/binance-spot-btcusdt-20240808.ndjson.gz');
    const [main, worker] = [await run(path, false), await run(path, true)];
    expect(main.summary.accepted).toBeGreaterThan(40_000);
    expect(worker.summary).toEqual(main.summary);
    expect(worker.dead).toEqual(main.dead);
    expect(worker.events).toEqual(main.events);
  });
});

describe('RecentIds (replay dedupe)', () => {
  it('recognises an id for at least `window` and at most 2×`window` later ids', () => {
    const r = new RecentIds(3);
    expect(['a', 'b', 'a', 'c'].map((x) => r.seen(x))).toEqual([false, false, true, false]);
    // a, b, c filled the first generation; d starts the next; a is still known (previous generation)
    expect(r.seen('d')).toBe(false);
    expect(r.seen('a')).toBe(true);
    expect(r.seen('d')).toBe(true);
    expect([r.seen('e'), r.seen('f')]).toEqual([false, false]); // d, e, f: a, b, c age out
    expect([r.seen('a'), r.seen('b'), r.seen('e')]).toEqual([false, false, true]);
  });
});
