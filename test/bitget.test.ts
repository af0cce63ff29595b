import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EventOf, ExchangeEvent } from '../src/events/schema.js';
import { parseEvent } from '../src/events/validate.js';
import { replay } from '../src/pipeline/replay.js';
import { SummaryCounter, type ReplaySummary } from '../src/pipeline/summary.js';
import type { DeadLetter, Emit } from '../src/pipeline/types.js';
import { BitgetDecoder, bitgetChecksum } from '../src/sources/bitget.js';
import { sniffFormat } from '../src/sources/registry.js';
import { L2Book } from '../src/market/l2-book.js';
import { cli } from './helpers/cli.js';

const SPOT = fileURLToPath(new URL('../../shared/data/market/bitget-spot-ws-20220407.txt', import.meta.url));
const MIX = fileURLToPath(new URL('./fixtures/bitget-mix-sample.txt', import.meta.url));

function readLines(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function tmpFile(name: string, lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rl-bitget-')), name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

async function run(path: string): Promise<{ summary: ReplaySummary; events: ExchangeEvent[]; dead: DeadLetter[] }> {
  const counter = new SummaryCounter();
  const events: ExchangeEvent[] = [];
  const dead: DeadLetter[] = [];
  await replay([{ path }], { operators: [counter, { onEvent: (e) => events.push(e), onDeadLetter: (d) => dead.push(d) }] });
  return { summary: counter.summary(), events, dead };
}

function decodeAll(lines: string[]) {
  const dec = new BitgetDecoder();
  const events: ExchangeEvent[] = [];
  const rejects: { reason: string; line: number; type?: string }[] = [];
  const out: Emit = { event: (e) => events.push(e), reject: (reason, _raw, pos, type) => rejects.push({ reason, line: pos.line, type }) };
  const pos = { source: 't', line: 0 };
  lines.forEach((l, i) => {
    pos.line = i + 1;
    dec.decode(l, pos, out);
  });
  dec.end(pos, out);
  return { dec, events, rejects };
}

const statusOf = (events: ExchangeEvent[]) => events.filter((e): e is EventOf<'book.status'> => e.type === 'book.status');
const payload = (line: string) => JSON.parse(line.slice(line.indexOf(': ') + 2));

describe('Bitget v1 capture (real data)', { timeout: 120_000 }, () => {
  it('sniffs the format, on spot and on a futures capture', () => {
    expect(sniffFormat(readLines(SPOT)[0])).toBe('bitget');
    expect(sniffFormat(readLines(MIX)[0])).toBe('bitget');
    expect(sniffFormat(readLines(SPOT)[5])).toBe('bitget');
  });

  it('decodes every data line with zero rejects; control lines are skipped and counted', async () => {
    const { summary, events, dead } = await run(SPOT);
    expect(dead).toEqual([]);
    expect(summary.duplicates).toBe(0);
    // 686 lines: 1 connect, 1 sent subscribe, 32 acks; 443 books, 38 trade, 128 ticker, 43 candle1m messages.
    expect(summary.acceptedByType).toEqual({ 'book.status': 8, candle: 8035, depth: 443, ticker: 128, trade: 430 });
    expect(Object.keys(summary.acceptedByMarket)).toEqual(['AVAXUSDT', 'CULTUSDT', 'EOSUSDT', 'GOGUSDT', 'HOTUSDT', 'STGUSDT', 'SUNUSDT', 'VVSUSDT']);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const e of events) {
      const r = parseEvent(e);
      if (!r.ok) throw new Error(`${e.id}: ${r.reason}`);
    }
    const { dec } = decodeAll(readLines(SPOT));
    expect(dec.skipped).toBe(34);
    expect(dec.skippedByKind).toEqual({ connect: 1, sent: 1, 'event:subscribe': 32 });
  });

  it('verifies the checksum of every snapshot and update: 443 of 443 match', () => {
    const { dec, events } = decodeAll(readLines(SPOT));
    expect(dec.checksumsVerified).toBe(443);
    expect(dec.checksumMismatches).toBe(0);
    expect(statusOf(events).every((s) => s.status === 'reliable' && s.reason === 'snapshot; checksum verified')).toBe(true);
    for (const m of ['EOSUSDT', 'AVAXUSDT', 'CULTUSDT']) expect(dec.book(m)!.reliable).toBe(true);
  });

  it('maps channels to canonical events with the exact strings', () => {
    const lines = readLines(SPOT);
    const { events } = decodeAll(lines);
    const bookLine = lines.findIndex((l) => l.includes('"action":"update","arg":{"instType":"sp","channel":"books","instId":"EOSUSDT"'));
    const raw = payload(lines[bookLine]).data[0];
    const depth = events.find((e) => e.type === 'depth' && !e.snapshot && e.market === 'EOSUSDT') as EventOf<'depth'>;
    expect(depth).toMatchObject({ source: 'bitget', marketKind: 'spot', bids: raw.bids, asks: raw.asks, checksum: raw.checksum, ts: Number(raw.ts) });
    const tick = events.find((e) => e.type === 'ticker' && e.market === 'EOSUSDT') as EventOf<'ticker'>;
    expect(tick).toEqual({
      type: 'ticker', id: 'bitget:EOSUSDT:ticker:1649290076034', ts: 1649290076034, source: 'bitget', market: 'EOSUSDT', marketKind: 'spot',
      last: '2.4383', open24h: '2.5667', high24h: '2.5767', low24h: '2.4155', baseVolume24h: '145518.8442', quoteVolume24h: '378707.9474', bidPrice: '2.436700', askPrice: '2.440900',
    });
    // The trade snapshot is history, newest first on the wire: emitted oldest first.
    const trades = events.filter((e): e is EventOf<'trade'> => e.type === 'trade' && e.market === 'EOSUSDT');
    const snap = payload(lines[38]).data as string[][];
    expect(trades[0]).toMatchObject({ ts: Number(snap[snap.length - 1][0]), price: snap[snap.length - 1][1], size: snap[snap.length - 1][2], aggressor: snap[snap.length - 1][3] });
    expect(trades.slice(0, snap.length).map((t) => t.ts)).toEqual(snap.map((r) => Number(r[0])).reverse());
    const candle = events.find((e) => e.type === 'candle' && e.market === 'EOSUSDT') as EventOf<'candle'>;
    expect(candle).toMatchObject({ interval: '1m', openTime: 1649230080000, open: '2.6841', high: '2.6856', low: '2.6824', close: '2.6824', volume: '143.0957', ts: 1649290078042 });
  });

  it('a corrupted size is caught by the checksum: unreliable until the next snapshot, other books unaffected', () => {
    const lines = readLines(SPOT);
    const i = lines.findIndex((l, k) => k > 100 && l.includes('"channel":"books","instId":"EOSUSDT"') && l.includes('"action":"update"'));
    const msg = payload(lines[i]);
    const level = msg.data[0].bids[0] as string[];
    level[1] = level[1] === '1' ? '2' : '1';
    const corrupted = [...lines];
    corrupted[i] = lines[i].slice(0, lines[i].indexOf(': ') + 2) + JSON.stringify(msg);
    const { dec, events, rejects } = decodeAll(corrupted);
    expect(rejects).toEqual([]);
    const bad = statusOf(events).filter((s) => s.status === 'unreliable');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ market: 'EOSUSDT', expected: msg.data[0].checksum });
    expect(bad[0].received).not.toBe(msg.data[0].checksum);
    expect(bad[0].reason).toMatch(/checksum mismatch: exchange -?\d+, computed -?\d+; unreliable until the next snapshot/);
    expect(dec.checksumMismatches).toBeGreaterThanOrEqual(1);
    expect(dec.book('EOSUSDT')!.reliable).toBe(false);
    expect(dec.book('AVAXUSDT')!.reliable).toBe(true);
    // A new snapshot (here: the first one replayed with a fresh timestamp) makes it reliable again.
    const snap = payload(lines[37]);
    snap.data[0].ts = '1649290200000';
    const healed = decodeAll([...corrupted, `1649290200.1: ${JSON.stringify(snap)}`]);
    expect(healed.dec.book('EOSUSDT')!.reliable).toBe(true);
    expect(statusOf(healed.events).at(-1)).toMatchObject({ market: 'EOSUSDT', status: 'reliable' });
  });

  it('rejects exactly the injected garbage lines with reasons and line numbers; good lines all get through', async () => {
    const lines = readLines(SPOT);
    const clean = await run(SPOT);
    const garbage: [string, RegExp][] = [
      [lines[300].slice(0, 120), /invalid JSON/],
      ['1649290090.5: {"action":"update","arg":{"instType":"sp","channel":"trade","instId":"EOSUSDT"},"data":[["1649290090000",2.43,"1.5","buy"]]}', /data\[0\]: price: expected a positive decimal/],
      ['1649290090.6: {"action":"update","arg":{"instType":"sp","channel":"ticker","instId":"EOSUSDT"},"data":[{"instId":"EOSUSDT","last":"abc","ts":1649290090600}]}', /field last: expected a positive decimal/],
      ['1649290090.7: {"action":"update","arg":{"instType":"sp","channel":"books","instId":"EOSUSDT"},"data":[{"asks":"none","bids":[],"checksum":1,"ts":"1649290090700"}]}', /field asks: expected an array/],
      ['\u0001\u0002\u00fe\u00ff garbage \u0007 bytes', /unrecognised line/],
      ['1649290090.8: {"action":"update","arg":{"instType":"sp","channel":"depth400","instId":"EOSUSDT"},"data":[]}', /unsupported channel "depth400"/],
      ['1649290090.9: {"action":"update","arg":{"instType":"xx","channel":"trade","instId":"EOSUSDT"},"data":[]}', /unknown instrument type "xx"/],
      ['1649290091.0: {"hello":"world"}', /unrecognised message/],
    ];
    const at = [60, 120, 200, 260, 320, 400, 500, 600];
    const injected = [...lines];
    for (let k = garbage.length - 1; k >= 0; k--) injected.splice(at[k], 0, garbage[k][0]);
    // Control frames are not rejects.
    injected.splice(10, 0, '1649290077.6: pong', 'wss://ws.bitget.com/spot/v1/stream <- 1649290077.6: ping', '1649290077.61: {"event":"error","code":30001,"msg":"channel does not exist"}');
    const expectedLines = at.map((p, k) => p + k + 1 + 3);
    const dirty = await run(tmpFile('garbage.txt', injected));
    expect(dirty.dead.map((d) => d.line)).toEqual(expectedLines);
    dirty.dead.forEach((d, k) => {
      expect(d.reason).toMatch(garbage[k][1]);
      expect(d.format).toBe('bitget');
    });
    expect(dirty.summary.accepted).toBe(clean.summary.accepted);
    expect(dirty.summary.acceptedByType).toEqual(clean.summary.acceptedByType);
  });

  it('joins a message split over several lines; a fragment that never completes rejects each of its lines', () => {
    const lines = readLines(SPOT);
    const i = 39; // EOSUSDT trade snapshot
    const split = [...lines.slice(0, i), lines[i].slice(0, 200), lines[i].slice(200, 400), lines[i].slice(400), ...lines.slice(i + 1)];
    const a = decodeAll(lines);
    const b = decodeAll(split);
    expect(b.rejects).toEqual([]);
    expect(b.events).toEqual(a.events);
    const broken = decodeAll([...lines.slice(0, i), lines[i].slice(0, 200), 'not json at all', ...lines.slice(i + 1)]);
    expect(broken.rejects.map((r) => [r.line, r.reason.slice(0, 30)])).toEqual([
      [i + 1, 'invalid JSON: ' + broken.rejects[0].reason.slice(14, 30)],
      [i + 2, `continuation of line ${i + 1}, which`],
    ]);
  });

  it('drops trades seen twice, keeps identical trades within one message apart', () => {
    const t = '1649290100.1: {"action":"update","arg":{"instType":"sp","channel":"trade","instId":"EOSUSDT"},"data":[["1649290100000","2.44","1.5","sell"],["1649290100000","2.44","1.5","sell"]]}';
    const { dec, events, rejects } = decodeAll([t, t.replace('1649290100.1', '1649290100.2')]);
    expect(rejects).toEqual([]);
    expect(events.map((e) => e.id)).toEqual(['bitget:EOSUSDT:trade:1649290100000:2.44:1.5:sell', 'bitget:EOSUSDT:trade:1649290100000:2.44:1.5:sell#2']);
    expect(dec.duplicates).toBe(2);
    // Spot instIds in the _SPBL form are the same market.
    const spbl = decodeAll([t.replace('"instType":"sp"', '"instType":"spbl"').replace('"EOSUSDT"', '"EOSUSDT_SPBL"')]);
    expect(spbl.events[0]).toMatchObject({ market: 'EOSUSDT', marketKind: 'spot' });
  });

  it('replays through the CLI', async () => {
    // Without the surveillance stage: it dead-letters the trade snapshots' history (minutes old) as late events.
    const s = JSON.parse((await cli(['replay', SPOT, '--json', '--quiet', '--no-surveillance'])).stdout) as ReplaySummary;
    expect(s.rejected).toBe(0);
    expect(s.accepted).toBe(9044);
    const m = JSON.parse((await cli(['replay', MIX, '--json', '--quiet', '--no-surveillance'])).stdout) as ReplaySummary;
    expect(m.rejected).toBe(0);
    expect(Object.keys(m.acceptedByMarket)).toEqual(['AVAXUSDT-PERP', 'EOSUSDT-PERP']);
  });
});

describe('Bitget futures (mix) capture', () => {
  it('decodes mc / umcbl lines to -PERP markets, with checksums verified and mark prices from tickers', async () => {
    const { summary, events, dead } = await run(MIX);
    expect(dead).toEqual([]);
    expect(summary.acceptedByType).toEqual({ 'book.status': 2, candle: 20, depth: 42, mark_price: 32, ticker: 32, trade: 110 });
    for (const e of events) {
      expect('market' in e && e.market).toMatch(/^(EOSUSDT|AVAXUSDT)-PERP$/);
      expect('marketKind' in e && e.marketKind).toBe('perpetual');
      expect(parseEvent(e).ok).toBe(true);
    }
    const mark = events.find((e) => e.type === 'mark_price') as EventOf<'mark_price'>;
    expect(mark).toMatchObject({ market: 'EOSUSDT-PERP', markPrice: '2.4383', fundingRate: '0.000100', nextFundingTime: 1649318400000 });
    const { dec } = decodeAll(readLines(MIX));
    expect(dec.checksumsVerified).toBe(42);
    expect(dec.checksumMismatches).toBe(0);
    expect(dec.skippedByKind).toEqual({ connect: 1, sent: 2, 'event:subscribe': 8, pong: 1 });
  });
});

describe('bitgetChecksum', () => {
  it('interleaves the best 25 levels per side as price:size, signed 32-bit', () => {
    const b = new L2Book();
    b.replace([['2', '1.0']], [['3', '5'], ['4', '6']]);
    // A side with fewer levels stops contributing: crc32("2:1.0:3:5:4:6") = 391076544.
    expect(bitgetChecksum(b)).toBe(391076544);
    // crc32("10:1:11:2") = 4067066603, which Bitget sends as the signed -227900693.
    b.replace([['10', '1']], [['11', '2']]);
    expect(bitgetChecksum(b)).toBe(-227900693);
    // Only the best 25 levels count.
    const deep = new L2Book();
    deep.replace([['10', '1']], [['11', '2']]);
    for (let i = 0; i < 30; i++) deep.set('bid', String(9 - i * 0.25 > 0 ? (9 - i * 0.25).toFixed(2) : '0.01'), '1');
    const top = deep.top('bid', 25);
    deep.set('bid', '0.001', '5');
    expect(deep.top('bid', 25)).toEqual(top);
    const before = bitgetChecksum(deep);
    deep.set('bid', '0.002', '5');
    expect(bitgetChecksum(deep)).toBe(before);
  });
});
