import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { EventOf, ExchangeEvent } from '../src/events/schema.js';
import { parseEvent } from '../src/events/validate.js';
import { replay } from '../src/pipeline/replay.js';
import { SummaryCounter, type ReplaySummary } from '../src/pipeline/summary.js';
import type { DeadLetter, Emit } from '../src/pipeline/types.js';
import { BinanceDecoder } from '../src/sources/binance.js';
import { sniffFormat } from '../src/sources/registry.js';
import { cli } from './helpers/cli.js';

const SPOT = fileURLToPath(new URL('../../shared/data/market/binance-spot-btcusdt-20240808.ndjson.gz', import.meta.url));
const USDM = fileURLToPath(new URL('../../shared/data/market/binance-usdm-btcusdt-20240808.ndjson.gz', import.meta.url));

function readLines(path: string): string[] {
  const lines = gunzipSync(readFileSync(path)).toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function tmpFile(name: string, lines: string[], gzip = false): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rl-binance-')), name);
  const text = lines.join('\n') + '\n';
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
}

interface Run {
  summary: ReplaySummary;
  events: ExchangeEvent[];
  dead: DeadLetter[];
}

async function run(path: string, keep: (e: ExchangeEvent) => boolean = () => true): Promise<Run> {
  const counter = new SummaryCounter();
  const events: ExchangeEvent[] = [];
  const dead: DeadLetter[] = [];
  await replay([{ path }], { operators: [counter, { onEvent: (e) => keep(e) && events.push(e), onDeadLetter: (d) => dead.push(d) }] });
  return { summary: counter.summary(), events, dead };
}

/** Decodes lines directly with one decoder, for tests that need its counters or options. */
function decodeAll(lines: string[], dec = new BinanceDecoder()): { events: ExchangeEvent[]; rejects: { reason: string; line: number; type?: string }[]; dec: BinanceDecoder } {
  const events: ExchangeEvent[] = [];
  const rejects: { reason: string; line: number; type?: string }[] = [];
  const out: Emit = { event: (e) => events.push(e), reject: (reason, _raw, pos, type) => rejects.push({ reason, line: pos.line, type }) };
  const pos = { source: 't', line: 0 };
  lines.forEach((l, i) => {
    pos.line = i + 1;
    dec.decode(l, pos, out);
  });
  dec.end(pos, out);
  return { events, rejects, dec };
}

const statusOf = (events: ExchangeEvent[]) => events.filter((e): e is EventOf<'book.status'> => e.type === 'book.status');

// Real captures of tens of MB, replayed several times: allow for slow shared machines.
describe('Binance raw captures (real data)', { timeout: 240_000 }, () => {
  it('sniffs the format from the first line', () => {
    expect(sniffFormat(readLines(SPOT)[0])).toBe('binance');
    expect(sniffFormat(readLines(USDM)[0])).toBe('binance');
  });

  it('spot: every line is accepted, counts match the capture, ids are unique, every event is canonical', async () => {
    const { summary, events, dead } = await run(SPOT);
    expect(dead).toEqual([]);
    expect(summary.rejected).toBe(0);
    expect(summary.duplicates).toBe(0);
    // 41,249 lines: 28,040 book tickers, 9,757 trades, 3,451 diffs and one REST depth snapshot (line 8).
    expect(summary.acceptedByType).toEqual({ bbo: 28040, 'book.status': 2, depth: 3452, trade: 9757 });
    expect(28040 + 9757 + 3452).toBe(41249);
    expect(Object.keys(summary.acceptedByMarket)).toEqual(['BTCUSDT']);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const first = events[0] as EventOf<'depth'>;
    expect(first).toMatchObject({ type: 'depth', source: 'binance-spot', market: 'BTCUSDT', marketKind: 'spot', snapshot: false, firstUpdateId: 50093239189, lastUpdateId: 50093239202 });
    expect(first.prevUpdateId).toBeUndefined();
    for (const e of events) {
      const r = parseEvent(e);
      if (!r.ok) throw new Error(`${e.id}: ${r.reason}`);
    }
  });

  it('USDⓈ-M: counts match the README (66,089 bbo, 6,551 depth diffs, 21,313 trades) with zero rejects', async () => {
    const { summary, events, dead } = await run(USDM);
    expect(dead).toEqual([]);
    expect(summary.duplicates).toBe(0);
    // The file also holds one REST depth snapshot line (line 55) the README does not count: 93,954 lines.
    expect(summary.acceptedByType).toEqual({ bbo: 66089, 'book.status': 2, depth: 6551 + 1, trade: 21313 });
    expect(Object.keys(summary.acceptedByMarket)).toEqual(['BTCUSDT-PERP']);
    const t = events.find((e) => e.type === 'trade') as EventOf<'trade'>;
    expect(t).toEqual({
      type: 'trade', id: 'binance-usdm:BTCUSDT-PERP:trade:5266583935', ts: 1723161256322, seq: 5266583935, source: 'binance-usdm',
      market: 'BTCUSDT-PERP', marketKind: 'perpetual', tradeId: '5266583935', price: '61800.30', size: '0.006', aggressor: 'buy',
    });
    const d = events.find((e) => e.type === 'depth') as EventOf<'depth'>;
    expect(d).toMatchObject({ firstUpdateId: 5123107832006, lastUpdateId: 5123107837557, prevUpdateId: 5123107831937, ts: 1723161256298 });
    for (const e of events) {
      const r = parseEvent(e);
      if (!r.ok) throw new Error(`${e.id}: ${r.reason}`);
    }
  });

  it('keeps every price and size string exactly as received', () => {
    for (const path of [SPOT, USDM]) {
      const lines = readLines(path);
      const { events, rejects } = decodeAll(lines);
      expect(rejects).toEqual([]);
      const raw = lines.map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)));
      const trades = new Map(raw.filter((r) => r.data?.e === 'trade').map((r) => [String(r.data.t), r.data]));
      const bbos = new Map(raw.filter((r) => r.stream?.endsWith('@bookTicker')).map((r) => [r.data.u, r.data]));
      const diffs = new Map(raw.filter((r) => r.data?.e === 'depthUpdate').map((r) => [r.data.u, r.data]));
      let checked = 0;
      const wrong: string[] = [];
      const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
      for (const e of events) {
        let ok: boolean;
        if (e.type === 'trade') {
          const r = trades.get(e.tradeId)!;
          ok = same([e.price, e.size, e.aggressor], [r.p, r.q, r.m ? 'sell' : 'buy']);
        } else if (e.type === 'bbo') {
          const r = bbos.get(e.updateId)!;
          ok = same([e.bidPrice, e.bidSize, e.askPrice, e.askSize], [r.b, r.B, r.a, r.A]);
        } else if (e.type === 'depth' && !e.snapshot) {
          const r = diffs.get(e.lastUpdateId)!;
          ok = same([e.bids, e.asks], [r.b, r.a]);
        } else continue;
        checked++;
        if (!ok) wrong.push(e.id);
      }
      expect(wrong).toEqual([]);
      expect(checked).toBe(lines.length - 1);
    }
  });

  it('reports the book honestly: partial from diffs, then synced from the snapshot with the newer buffered diffs folded in', () => {
    for (const [path, L, folded, upTo] of [[SPOT, 50093239218, 1, 50093239224], [USDM, 5123107852948, 2, 5123107856210]] as const) {
      const { events, dec } = decodeAll(readLines(path));
      const st = statusOf(events);
      expect(st.map((s) => s.status)).toEqual(['unreliable', 'reliable']);
      expect(st[0].reason).toMatch(/partial book: built from diffs only, no snapshot/);
      expect(st[1].reason).toContain(`snapshot lastUpdateId=${L} with ${folded} newer buffered diff(s) folded in, up to u=${upTo}`);
      // The real files have no sequence gap.
      expect(dec.gaps).toBe(0);
      expect(dec.staleDiffs).toBe(0);
      const snap = events.find((e) => e.type === 'depth' && e.snapshot) as EventOf<'depth'>;
      // The emitted snapshot is the reconciled book, so consumers applying events in order stay in sync.
      expect(snap.lastUpdateId).toBe(upTo);
      expect(snap.bids.length).toBeGreaterThan(900);
      const next = events.find((e) => e.type === 'depth' && !e.snapshot && e.firstUpdateId! > upTo) as EventOf<'depth'>;
      if (next.prevUpdateId !== undefined) expect(next.prevUpdateId).toBe(upTo);
      else expect(next.firstUpdateId).toBe(upTo + 1);
    }
  });

  it('a removed depth line after the sync is reported as a gap with expected/received, and the book stays unreliable', async () => {
    for (const [path, futures] of [[SPOT, false], [USDM, true]] as const) {
      const lines = readLines(path);
      const depthLines = lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes('@depth'));
      const [removedLine, at] = depthLines[1000];
      const removed = JSON.parse(removedLine.slice(removedLine.indexOf(' ') + 1)).data;
      const before = JSON.parse(depthLines[999][0].slice(depthLines[999][0].indexOf(' ') + 1)).data;
      const after = JSON.parse(depthLines[1001][0].slice(depthLines[1001][0].indexOf(' ') + 1)).data;
      const file = tmpFile(futures ? 'gap-usdm.ndjson.gz' : 'gap-spot.ndjson.gz', [...lines.slice(0, at), ...lines.slice(at + 1)], true);
      const { summary, events } = await run(file, (e) => e.type === 'book.status');
      expect(summary.rejected).toBe(0);
      expect(summary.acceptedByType.depth).toBe(futures ? 6551 : 3451);
      const gap = events.find((e) => e.type === 'book.status' && e.reason.startsWith('sequence gap')) as EventOf<'book.status'>;
      expect(gap.status).toBe('unreliable');
      if (futures) {
        expect([gap.expected, gap.received]).toEqual([before.u, after.pu]);
        expect(after.pu).toBe(removed.u);
      } else {
        expect([gap.expected, gap.received]).toEqual([before.u + 1, after.U]);
        expect(after.U).toBe(removed.u + 1);
      }
      // No later snapshot: the stream ends with the book still unreliable, and says so.
      const last = events[events.length - 1] as EventOf<'book.status'>;
      expect(last.status).toBe('unreliable');
      expect(last.reason).toMatch(/stream ended with the book unreliable: sequence gap/);
    }
  });

  it('a gap before the snapshot is healed by it', () => {
    const lines = readLines(SPOT);
    const { events, dec } = decodeAll([lines[0], ...lines.slice(2, 40)]);
    const st = statusOf(events);
    expect(st.map((s) => [s.status, s.expected, s.received])).toEqual([
      ['unreliable', undefined, undefined],
      ['unreliable', 50093239203, 50093239208],
      ['reliable', undefined, undefined],
    ]);
    expect(dec.book('BTCUSDT')!.reliable).toBe(true);
  });

  it('rejects exactly the injected garbage lines, with reasons and line numbers, and accepts everything else', async () => {
    for (const path of [SPOT, USDM]) {
      const clean = await run(path, () => false);
      const lines = readLines(path);
      const ns = lines[100].slice(0, lines[100].indexOf(' '));
      const garbage: [string, RegExp][] = [
        [lines[200].slice(0, 90), /invalid JSON/],
        [`${ns} {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":"x1","p":"61837.63","q":"0.02","T":1723161255342,"m":true}}`, /field t: expected a trade id/],
        [`${ns} {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":99,"p":61837.63,"q":"0.02","T":1723161255342,"m":true}}`, /field p: expected a positive decimal/],
        [`${ns} {"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61,837.63","B":"3.7","a":"61837.64","A":"1.5"}}`, /field b: expected a decimal/],
        [`${ns} {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":6,"b":[["61837.63","abc"]],"a":[]}}`, /field b\[0\]: expected \[price, size\]/],
        ['\u0001\u0002\u00fe\u00ff garbage \u0007\u0000 bytes', /expected "<local receive ns> <json>"/],
        [`${ns} {"stream":"btcusdt@foo","data":{"e":"foo","E":1723161255343,"s":"BTCUSDT"}}`, /unsupported event type "foo" on stream "btcusdt@foo"/],
        [`${ns} [1,2,3]`, /element 0: data: expected an object/],
      ];
      const injected = [...lines];
      const at = [150, 300, 301, 2000, 5000, 9000, 20000, 30000];
      // Insert from the back so earlier positions stay valid; record the final line numbers.
      for (let k = garbage.length - 1; k >= 0; k--) injected.splice(at[k], 0, garbage[k][0]);
      const expectedLines = at.map((p, k) => p + k + 1);
      const file = tmpFile('garbage.ndjson.gz', injected, true);
      const dirty = await run(file, () => false);
      expect(dirty.dead.map((d) => d.line)).toEqual(expectedLines);
      dirty.dead.forEach((d, k) => {
        expect(d.reason).toMatch(garbage[k][1]);
        expect(d.format).toBe('binance');
        expect(d.source).toBe('garbage.ndjson.gz');
      });
      expect(dirty.summary.rejected).toBe(garbage.length);
      expect(dirty.summary.accepted).toBe(clean.summary.accepted);
      expect(dirty.summary.acceptedByType).toEqual(clean.summary.acceptedByType);
    }
  });

  it('replays through the CLI with the same figures', async () => {
    const { stdout } = await cli(['replay', USDM, '--json', '--quiet']);
    const s = JSON.parse(stdout) as ReplaySummary;
    expect(s.rejected).toBe(0);
    expect(s.acceptedByType).toEqual({ bbo: 66089, 'book.status': 2, depth: 6552, trade: 21313 });
    expect(s.acceptedByMarket).toEqual({ 'BTCUSDT-PERP': 93956 });
    const spot = JSON.parse((await cli(['replay', SPOT, '--json', '--quiet', '--format', 'binance'])).stdout) as ReplaySummary;
    expect(spot.accepted).toBe(41251);
    expect(spot.rejected).toBe(0);
  });
});

describe('Binance streams beyond the sample files', () => {
  const ns = '1723161254206652067';
  it('maps aggTrade, markPriceUpdate, forceOrder, kline, 24h tickers and partial depth; skips acks', () => {
    const lines = [
      '{"result":null,"id":1}',
      `${ns} {"stream":"bnbbtc@aggTrade","data":{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}}`,
      `${ns} {"stream":"btcusdt@markPrice","data":{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"-0.00038167","T":1562306400000}}`,
      `${ns} {"stream":"btcusdt@forceOrder","data":{"e":"forceOrder","E":1568014460893,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.014","p":"9910","ap":"9910.5","X":"FILLED","l":"0.014","z":"0.014","T":1568014460893}}}`,
      `${ns} {"stream":"ethusdt@kline_1m","data":{"e":"kline","E":1638747660000,"s":"ETHUSDT","k":{"t":1638747660000,"T":1638747719999,"s":"ETHUSDT","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}`,
      `${ns} {"stream":"bnbbtc@ticker","data":{"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":18150,"n":18151}}`,
      `${ns} {"stream":"!markPrice@arr","data":[{"e":"markPriceUpdate","E":1562305381000,"s":"ETHUSDT","p":"3000.1","i":"3000.0","P":"3000.2","r":"0.0001","T":1562306400000},{"e":"markPriceUpdate","E":1562305381000,"s":"BTCUSDT_240927","p":"60000.5","i":"59990.1","P":"60001","r":"","T":0}]}`,
    ];
    const { events, rejects, dec } = decodeAll(lines);
    expect(rejects).toEqual([]);
    expect(dec.skipped).toBe(1);
    const byType = Object.fromEntries(events.map((e) => [e.type + ':' + ('market' in e ? e.market : ''), e]));
    expect(byType['trade:BNBBTC']).toMatchObject({ id: 'binance-spot:BNBBTC:trade:agg:12345', tradeId: 'agg:12345', aggressor: 'sell', ts: 1672515782136, marketKind: 'spot' });
    expect(byType['mark_price:BTCUSDT-PERP']).toMatchObject({ markPrice: '11794.15000000', indexPrice: '11784.62659091', fundingRate: '-0.00038167', nextFundingTime: 1562306400000, ts: 1562305380000, source: 'binance-usdm' });
    expect(byType['liquidation:BTCUSDT-PERP']).toMatchObject({ side: 'sell', price: '9910.5', size: '0.014', ts: 1568014460893 });
    expect(byType['candle:ETHUSDT']).toMatchObject({ interval: '1m', openTime: 1638747660000, open: '0.0010', high: '0.0025', low: '0.0015', close: '0.0020', volume: '1000', ts: 1638747660000 });
    expect(byType['ticker:BNBBTC']).toMatchObject({ last: '0.0025', open24h: '0.0010', bidPrice: '0.0024', askPrice: '0.0026', baseVolume24h: '10000', quoteVolume24h: '18' });
    expect(byType['mark_price:ETHUSDT-PERP']).toMatchObject({ fundingRate: '0.0001' });
    const delivery = byType['mark_price:BTCUSDT_240927'] as EventOf<'mark_price'>;
    expect(delivery).toMatchObject({ marketKind: 'future', source: 'binance-usdm' });
    expect(delivery.fundingRate).toBeUndefined();
    expect(delivery.nextFundingTime).toBeUndefined();
    for (const e of events) expect(parseEvent(e).ok).toBe(true);
  });

  it('detects COIN-M from the symbol and honours the venue option', () => {
    const coinm = decodeAll([
      `${ns} {"stream":"btcusd_200626@bookTicker","data":{"e":"bookTicker","u":17242169,"s":"BTCUSD_200626","ps":"BTCUSD","b":"9548.1","B":"52","a":"9548.5","A":"11","T":1591268628155,"E":1591268628166}}`,
      `${ns} {"stream":"btcusd_perp@depth@100ms","data":{"e":"depthUpdate","E":1591270260907,"T":1591270260891,"s":"BTCUSD_PERP","ps":"BTCUSD","U":17285681,"u":17285702,"pu":17285675,"b":[["9517.6","10"]],"a":[["9518.5","45"]]}}`,
    ]);
    expect(coinm.rejects).toEqual([]);
    expect(coinm.events.map((e) => [e.type, 'market' in e && e.market, 'marketKind' in e && e.marketKind, e.source])).toEqual([
      ['bbo', 'BTCUSD_200626', 'future', 'binance-coinm'],
      ['depth', 'BTCUSD_PERP', 'perpetual', 'binance-coinm'],
      ['book.status', 'BTCUSD_PERP', 'perpetual', 'binance-coinm'],
      ['book.status', 'BTCUSD_PERP', 'perpetual', 'binance-coinm'],
    ]);
    // Spot-looking payload without envelope or receive time, forced to USDⓈ-M.
    const forced = decodeAll(['{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000","E":1700000000000}'], new BinanceDecoder({ venue: 'usdm' }));
    expect(forced.events[0]).toMatchObject({ market: 'BNBUSDT-PERP', marketKind: 'perpetual', source: 'binance-usdm', ts: 1700000000000, id: 'binance-usdm:BNBUSDT-PERP:bbo:400900217' });
    expect(() => new BinanceDecoder({ venue: 'nope' as 'spot' })).toThrow(/unknown venue/);
  });

  it('a partial-depth stream resyncs an unreliable book; a symbol-less snapshot needs an unambiguous market', () => {
    const diff = (s: string, U: number, u: number) => `${ns} {"stream":"${s.toLowerCase()}@depth@100ms","data":{"e":"depthUpdate","E":${1000 + u},"s":"${s}","U":${U},"u":${u},"b":[["10.0","1"]],"a":[["11.0","${u}"]]}}`;
    const { events, rejects } = decodeAll([
      diff('BTCUSDT', 1, 5),
      diff('BTCUSDT', 9, 12), // gap: 6..8 missing
      `${ns} {"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":20,"bids":[["10.0","2"],["9.9","1"]],"asks":[["11.0","3"]]}}`,
      diff('BTCUSDT', 21, 22),
      diff('ETHUSDT', 1, 2),
      `${ns} {"lastUpdateId":30,"bids":[],"asks":[]}`,
    ]);
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([[6, 'depth snapshot without a symbol is ambiguous: BTCUSDT, ETHUSDT (pass --market)']]);
    expect(statusOf(events).filter((s) => s.market === 'BTCUSDT').map((s) => [s.status, s.expected, s.received])).toEqual([
      ['unreliable', undefined, undefined],
      ['unreliable', 6, 9],
      ['reliable', undefined, undefined],
    ]);
    const snap = events.find((e) => e.type === 'depth' && e.snapshot) as EventOf<'depth'>;
    expect(snap.bids).toEqual([['10.0', '2'], ['9.9', '1']]);
    // With --market it attaches; a snapshot before any diff waits for the first one.
    const withMarket = decodeAll([`${ns} {"lastUpdateId":4,"bids":[["10.0","7"]],"asks":[]}`, diff('BTCUSDT', 3, 5)], new BinanceDecoder({ market: 'BTCUSDT' }));
    expect(withMarket.rejects).toEqual([]);
    expect(statusOf(withMarket.events).map((s) => s.status)).toEqual(['reliable']);
    const waiting = decodeAll([`${ns} {"lastUpdateId":4,"bids":[["10.0","7"]],"asks":[]}`, diff('BTCUSDT', 3, 5)]);
    expect(waiting.rejects).toEqual([]);
    expect(waiting.events.map((e) => e.type)).toEqual(['depth', 'book.status', 'depth']);
    const orphan = decodeAll([`${ns} {"lastUpdateId":4,"bids":[],"asks":[]}`]);
    expect(orphan.rejects.map((r) => r.line)).toEqual([1]);
    expect(orphan.rejects[0].reason).toMatch(/no depth stream to attach it to/);
  });

  it('drops records delivered twice and never emits a duplicate id', () => {
    const lines = readLines(USDM).slice(0, 300);
    const { events, rejects, dec } = decodeAll([...lines, ...lines.slice(100, 200)]);
    expect(rejects).toEqual([]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(dec.duplicates + dec.staleDiffs).toBe(100);
  });

  it('the fast scanner and JSON.parse agree; unusual JSON still decodes through the fallback', () => {
    const line = readLines(USDM)[1];
    const json = line.slice(line.indexOf(' ') + 1);
    const spaced = JSON.stringify(JSON.parse(json), null, 1).replace(/\n/g, ' ');
    const escaped = json.replace('"BTCUSDT"', '"BTC\\u0055SDT"');
    const a = decodeAll([line]).events;
    const b = decodeAll([`${line.slice(0, line.indexOf(' '))} ${spaced}`]).events;
    const c = decodeAll([`${line.slice(0, line.indexOf(' '))} ${escaped}`]).events;
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    // Trailing junk after a complete object is invalid JSON for both paths.
    expect(decodeAll([`${line}}`]).rejects[0].reason).toMatch(/invalid JSON/);
  });
});

describe('event time of messages without exchange time', () => {
  it('moves spot book tickers onto the exchange clock: within the depth batch that holds their update id, never late', () => {
    const { events, rejects } = decodeAll(readLines(SPOT));
    expect(rejects).toEqual([]);
    const diffs = events.filter((e): e is EventOf<'depth'> => e.type === 'depth' && !e.snapshot);
    const bbos = events.filter((e): e is EventOf<'bbo'> => e.type === 'bbo');
    expect(bbos.length).toBeGreaterThan(28_000);
    // Spot book tickers and depth diffs share one update-id sequence; a diff's ts is its 100 ms batch's E.
    let matched = 0;
    let within = 0;
    let d = 0;
    for (const b of bbos) {
      while (d < diffs.length && diffs[d].lastUpdateId! < b.updateId!) d++;
      if (d === diffs.length || diffs[d].firstUpdateId! > b.updateId!) continue;
      matched++;
      const lag = diffs[d].ts - b.ts;
      if (lag >= 0 && lag <= 100) within++;
    }
    expect(matched).toBeGreaterThan(27_000);
    expect(within / matched).toBeGreaterThan(0.99);
    // Against the exchange-timed events before them, none is more than a second behind (the raw receive time was ~1.3 s).
    let maxTs = 0;
    let late = 0;
    for (const e of events) {
      if (e.type === 'bbo' && e.ts < maxTs - 1000) late++;
      maxTs = Math.max(maxTs, e.ts);
    }
    expect(late).toBe(0);
  });

  it('falls back to the receive time before any exchange time is seen', () => {
    const line = '1723161254087891268 {"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}';
    const { events } = decodeAll([line]);
    expect(events.map((e) => e.ts)).toEqual([1723161254087]);
  });
});

describe('without the decoder-side books (as replay runs it)', () => {
  it('emits exactly the same events, gaps and snapshots included', () => {
    for (const path of [SPOT, USDM]) {
      const lines = readLines(path);
      // Also with a depth line removed after the sync, so a gap and its status are part of the comparison.
      const depthAt = lines.findIndex((l, i) => i > lines.length / 2 && l.includes('depthUpdate'));
      for (const input of [lines, lines.filter((_, i) => i !== depthAt)]) {
        const withBooks = decodeAll(input);
        const without = decodeAll(input, new BinanceDecoder({ books: false }));
        expect(without.rejects).toEqual(withBooks.rejects);
        expect(without.events.length).toBe(withBooks.events.length);
        const a = without.events.map((e) => JSON.stringify(e));
        const b = withBooks.events.map((e) => JSON.stringify(e));
        expect(a.filter((x, i) => x !== b[i])).toEqual([]);
        expect(withBooks.events.some((e) => e.type === 'book.status' && e.status === 'unreliable' && e.expected !== undefined) || input === lines).toBe(true);
        expect(without.dec.book('BTCUSDT')).toBeUndefined();
      }
    }
  });
});
