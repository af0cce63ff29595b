import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeEvent } from '../src/events/schema.js';
import type { Emit, RecordPosition } from '../src/pipeline/types.js';
import { sniffFormat } from '../src/sources/registry.js';
import {
  LobsterBookReplayer,
  LobsterDecoder,
  parseLobsterFileName,
  parseLobsterMessage,
  parseLobsterSnapshot,
  type LobsterMessage,
} from '../src/sources/lobster.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/riskloop.js');
const FIX = join(ROOT, 'test/fixtures/lobster');
const MSG_NAME = 'AAPL_2012-06-21_34200000_57600000_message_10.csv';
const OB_NAME = 'AAPL_2012-06-21_34200000_57600000_orderbook_10.csv';

let msgs: string[];
let ob: string[];
let tmp: string;
let runs = 0;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/cli/commands/book.js'))) throw new Error('run `npm run build` before these tests (they spawn bin/riskloop.js)');
  msgs = (await readFile(join(FIX, MSG_NAME), 'utf8')).trimEnd().split('\n');
  ob = (await readFile(join(FIX, OB_NAME), 'utf8')).trimEnd().split('\n');
  tmp = await mkdtemp(join(tmpdir(), 'riskloop-lobster-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, CI: '1' } });
}

function parsed(line: string): LobsterMessage {
  const m = parseLobsterMessage(line);
  if (typeof m === 'string') throw new Error(m);
  return m;
}

/** Runs at most 4 at a time: each spawns a process. */
async function inBatches<T, R>(items: T[], f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 4) out.push(...(await Promise.all(items.slice(i, i + 4).map(f))));
  return out;
}

/** The first 4n columns of a LOBSTER row: the same book at n levels. */
const cut = (row: string, n: number) => row.split(',').slice(0, 4 * n).join(',');

/**
 * Writes the book state before message `seed` (LOBSTER's row seed-1, 1-based) and messages seed.. into a
 * directory of their own, runs `riskloop book` on them and compares against LOBSTER's rows.
 */
async function replayFromSeed(seed: number, levels: number, extra: string[] = [], messages = msgs) {
  const dir = join(tmp, `seed-${seed}-${levels}-${++runs}`);
  await run('mkdir', ['-p', dir]);
  const before = join(dir, 'before.csv');
  const file = join(dir, MSG_NAME); // a LOBSTER name, so --file-levels 10 comes from it
  await writeFile(before, ob[seed - 2] + '\n');
  await writeFile(file, messages.slice(seed - 1).join('\n') + '\n');
  const { stdout, stderr } = await cli(['book', '--format', 'lobster', file, '--levels', String(levels), '--initial', before, '--known-columns', ...extra]);
  const out = stdout.trimEnd().split('\n');
  let exactRows = 0;
  let exactRowsMatching = 0;
  let knownLevels = 0;
  let knownLevelsMatching = 0;
  const mismatchedRows: number[] = [];
  out.forEach((line, i) => {
    const f = line.split(',');
    const [ka, kb] = f.slice(-2).map(Number);
    const got = f.slice(0, -2);
    const want = cut(ob[seed - 1 + i], levels).split(',');
    expect(got).toHaveLength(4 * levels);
    if (ka === levels && kb === levels) {
      exactRows++;
      if (got.join(',') === want.join(',')) exactRowsMatching++;
      else mismatchedRows.push(seed + i);
    }
    for (let l = 0; l < levels; l++) {
      for (const [k, col] of [[ka, 0], [kb, 2]]) {
        if (l >= k) continue;
        knownLevels++;
        if (got[4 * l + col] === want[4 * l + col] && got[4 * l + col + 1] === want[4 * l + col + 1]) knownLevelsMatching++;
      }
    }
  });
  return { rows: out.length, exactRows, exactRowsMatching, knownLevels, knownLevelsMatching, mismatchedRows, stderr };
}

describe('riskloop book --format lobster against LOBSTER’s own orderbook file (AAPL 2012-06-21, 10 levels)', () => {
  it('fixture is intact: one orderbook row per message, 40 columns each', () => {
    expect(msgs).toHaveLength(283);
    expect(ob).toHaveLength(283);
    for (const row of ob) expect(row.split(',')).toHaveLength(40);
  });

  it('prints exactly LOBSTER’s rows wherever the book is known, from snapshots across the file', async () => {
    const seeds = [2, 37, 72, 107, 142, 177, 212, 247];
    const results = await inBatches(seeds, (s) => replayFromSeed(s, 10));
    const total = results.reduce(
      (a, r) => ({ rows: a.rows + r.rows, exact: a.exact + r.exactRows, exactOk: a.exactOk + r.exactRowsMatching, lv: a.lv + r.knownLevels, lvOk: a.lvOk + r.knownLevelsMatching }),
      { rows: 0, exact: 0, exactOk: 0, lv: 0, lvOk: 0 },
    );
    results.forEach((r, i) => expect(r.rows, `rows from seed ${seeds[i]}`).toBe(283 - seeds[i] + 1));
    expect(results.flatMap((r) => r.mismatchedRows)).toEqual([]);
    expect(total.exactOk).toBe(total.exact);
    expect(total.lvOk).toBe(total.lv);
    // Not vacuous: a real share of rows and levels is claimed exact and compared.
    expect(total.exact).toBeGreaterThanOrEqual(100);
    expect(total.lv).toBeGreaterThanOrEqual(15_000);
    console.log(`lobster, 10 levels: ${total.rows} rows replayed; ${total.exact} rows fully known, all identical to LOBSTER's; ${total.lv} known side-levels, all identical`);
  }, 240_000);

  it('at 5 of the file’s 10 levels far more rows stay exact, and all of them match LOBSTER', async () => {
    const results = await inBatches([2, 60, 120, 180, 240], (s) => replayFromSeed(s, 5));
    const exact = results.reduce((a, r) => a + r.exactRows, 0);
    expect(results.flatMap((r) => r.mismatchedRows)).toEqual([]);
    expect(results.reduce((a, r) => a + r.exactRowsMatching, 0)).toBe(exact);
    expect(exact).toBeGreaterThanOrEqual(300);
    console.log(`lobster, 5 of 10 levels: ${exact} rows fully known, all identical to LOBSTER's first 20 columns`);
  }, 240_000);

  it('without --known-columns the output is LOBSTER’s format and identical row for row', async () => {
    const dir = join(tmp, 'plain');
    await run('mkdir', ['-p', dir]);
    await writeFile(join(dir, 'before.csv'), ob[0] + '\n');
    await writeFile(join(dir, MSG_NAME), msgs.slice(1).join('\n') + '\n');
    const plain = await cli(['book', '--format', 'lobster', join(dir, MSG_NAME), '--levels', '10', '--initial', join(dir, 'before.csv')]);
    const annotated = await cli(['book', '--format', 'lobster', join(dir, MSG_NAME), '--levels', '10', '--initial', join(dir, 'before.csv'), '--known-columns']);
    const rows = plain.stdout.trimEnd().split('\n');
    expect(rows).toEqual(annotated.stdout.trimEnd().split('\n').map((l) => l.split(',').slice(0, -2).join(',')));
    expect(rows.every((r) => /^-?\d+(,-?\d+){39}$/.test(r))).toBe(true);
    expect(plain.stderr).toMatch(/282 rows of 10 levels .* 20 rows exact/);
    // The first rows after the snapshot are known, and the file says so.
    expect(rows.slice(0, 7)).toEqual(ob.slice(1, 8));
  });

  it('a single corrupted message shows up as a difference in a row claimed exact (the comparison has teeth)', async () => {
    // Message 2 places 18 @ 585.32; say 19 instead.
    const corrupted = [...msgs];
    expect(corrupted[1]).toBe('34200.00426064,1,16113584,18,5853200,1');
    corrupted[1] = '34200.00426064,1,16113584,19,5853200,1';
    const r = await replayFromSeed(2, 10, [], corrupted);
    expect(r.mismatchedRows.length).toBeGreaterThan(0);
    expect(r.mismatchedRows[0]).toBe(2);
    // Its later deletion (18, not 19) cannot be explained, so that level stops being claimed.
    expect(r.stderr).toMatch(/inconsistencies: 1;/);
  });

  it('with no snapshot nothing is claimed exact, and the summary says why', async () => {
    const { stdout, stderr } = await cli(['book', join(FIX, MSG_NAME), '--known-columns']);
    const rows = stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(283);
    expect(rows.every((r) => r.endsWith(',0,0'))).toBe(true);
    expect(stderr).toMatch(/0 rows exact/);
    expect(stderr).toMatch(/no --initial/);
  });

  it('malformed message lines keep the rows aligned, go to dead letters with line numbers, and end what is known', async () => {
    const dir = join(tmp, 'bad');
    await run('mkdir', ['-p', dir]);
    const lines = ['34200.1,1,1,10,1000000,1', '34200.2,1,2,5,1010000,-1', 'garbage', '34200.3,9,3,5,1010000,-1', '', '34200.4,1,4,5,1020000,-1'];
    await writeFile(join(dir, 'm.csv'), lines.join('\n') + '\n');
    const dl = join(dir, 'dl.ndjson');
    const { stdout, stderr } = await cli(['book', join(dir, 'm.csv'), '--levels', '2', '--assume-empty', '--known-columns', '--dead-letters', dl]);
    expect(stdout.trimEnd().split('\n')).toEqual([
      '9999999999,0,1000000,10,9999999999,0,-9999999999,0,2,2',
      '1010000,5,1000000,10,9999999999,0,-9999999999,0,2,2',
      '1010000,5,1000000,10,9999999999,0,-9999999999,0,0,0',
      '1010000,5,1000000,10,9999999999,0,-9999999999,0,0,0',
      '1010000,5,1000000,10,1020000,5,-9999999999,0,0,0',
    ]);
    const dead = (await readFile(dl, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(dead.map((d) => [d.line, d.format, d.raw])).toEqual([
      [3, 'lobster', 'garbage'],
      [4, 'lobster', '34200.3,9,3,5,1010000,-1'],
    ]);
    expect(dead[0].reason).toMatch(/expected 6 columns/);
    expect(dead[1].reason).toMatch(/column 2 \(type\): expected 1-7, got 9/);
    expect(stderr).toMatch(/malformed lines: 2 \(first: line 3: expected 6 columns/);
  });

  it('errors clearly on missing levels and on a wrong initial file', async () => {
    const dir = join(tmp, 'errors');
    await run('mkdir', ['-p', dir]);
    await writeFile(join(dir, 'm.csv'), msgs.slice(0, 3).join('\n') + '\n');
    await expect(cli(['book', join(dir, 'm.csv')])).rejects.toMatchObject({ stderr: expect.stringMatching(/give --levels N/) });
    await writeFile(join(dir, 'init.csv'), '5859400,200,5853300\n');
    await expect(cli(['book', join(dir, 'm.csv'), '-l', '1', '--initial', join(dir, 'init.csv')])).rejects.toMatchObject({
      stderr: expect.stringMatching(/init\.csv:1: an orderbook row has 4 columns per level; got 3/),
    });
  });

  it('--help documents the format, snapshots and the guarantee', async () => {
    const { stdout } = await cli(['book', '--help']);
    for (const s of ['--levels', '--file-levels', '--initial', '--assume-empty', '--out', '--known-columns', '9999999999,0', 'id,side,price,size', 'exact']) {
      expect(stdout).toContain(s);
    }
  });
});

describe('LobsterBookReplayer (library)', () => {
  it('from every row as a snapshot, every known row and level equals LOBSTER’s', () => {
    for (const levels of [10, 5, 1]) {
      let exact = 0;
      let known = 0;
      const wrong: string[] = [];
      for (let seed = 1; seed < ob.length; seed++) {
        const r = new LobsterBookReplayer({ levels, fileLevels: 10, initial: parseLobsterSnapshot(ob[seed - 1]) });
        for (let i = seed; i < ob.length; i++) {
          r.apply(parsed(msgs[i]));
          const got = r.row().split(',');
          const want = cut(ob[i], levels).split(',');
          if (r.rowKnown()) {
            exact++;
            if (got.join(',') !== want.join(',')) wrong.push(`row ${i + 1} from snapshot row ${seed}`);
          }
          const k = [r.knownLevels('sell'), r.knownLevels('buy')];
          for (let l = 0; l < levels; l++) {
            for (const side of [0, 1]) {
              if (l >= k[side]) continue;
              known++;
              const c = 4 * l + 2 * side;
              if (got[c] !== want[c] || got[c + 1] !== want[c + 1]) wrong.push(`row ${i + 1} level ${l + 1} ${side ? 'bid' : 'ask'} from snapshot row ${seed}`);
            }
          }
        }
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(exact).toBeGreaterThan(levels === 10 ? 3000 : 15_000);
      expect(known).toBeGreaterThan(60_000);
    }
  });

  it('renders placeholders for missing levels, and a short side in the snapshot is wholly known', () => {
    const r = new LobsterBookReplayer({ levels: 3, initial: parseLobsterSnapshot('1010000,5,1000000,10,9999999999,0,990000,7,9999999999,0,-9999999999,0') });
    expect(r.row()).toBe('1010000,5,1000000,10,9999999999,0,990000,7,9999999999,0,-9999999999,0');
    expect(r.rowKnown()).toBe(true);
    r.apply(parsed('34200.1,1,1,4,1020000,-1'));
    expect(r.row()).toBe('1010000,5,1000000,10,1020000,4,990000,7,9999999999,0,-9999999999,0');
    expect(r.rowKnown()).toBe(true);
  });

  it('matches unknown orders to snapshot liquidity at known levels and skips them beyond', () => {
    // Two bid levels known (a full 2-level row); the level behind them is not.
    const r = new LobsterBookReplayer({ levels: 2, initial: parseLobsterSnapshot('1010000,5,1000000,10,1020000,8,990000,7') });
    r.apply(parsed('34200.1,3,77,4,1000000,1')); // an order resting before the file: part of the 10
    expect(r.row()).toBe('1010000,5,1000000,6,1020000,8,990000,7');
    expect(r.rowKnown()).toBe(true);
    r.apply(parsed('34200.2,3,78,3,980000,1')); // behind the known levels: not applied, not guessed
    expect(r.stats).toMatchObject({ unknownOrders: 2, matchedToSnapshot: 1, beyondKnown: 1, inconsistencies: 0 });
    r.apply(parsed('34200.3,4,79,7,990000,1')); // takes all of the second level
    expect(r.row()).toBe('1010000,5,1000000,6,1020000,8,-9999999999,0');
    expect(r.knownLevels('buy')).toBe(1); // whatever is behind 99.00 was never known
    expect(r.rowKnown()).toBe(false);
  });

  it('stops claiming a level the messages contradict', () => {
    const r = new LobsterBookReplayer({ levels: 2, initial: parseLobsterSnapshot('1010000,5,1000000,10,1020000,8,990000,7') });
    r.apply(parsed('34200.1,3,77,11,1000000,1')); // more than the snapshot holds at 100.00
    expect(r.stats.inconsistencies).toBe(1);
    expect(r.knownLevels('buy')).toBe(0);
    expect(r.knownLevels('sell')).toBe(2);
    expect(() => r.apply(parsed('34200.2,4,12345,1,5,1'))).not.toThrow();
  });

  it('pulls knowledge in to the file’s depth: a level pushed behind it and back is no longer known', () => {
    const r = new LobsterBookReplayer({ levels: 2, assumeEmpty: true });
    r.apply(parsed('1.0,1,1,5,1000000,1'));
    r.apply(parsed('1.1,1,2,5,990000,1'));
    expect(r.rowKnown()).toBe(true);
    r.apply(parsed('1.2,1,3,5,1010000,1')); // 99.00 is now level 3: its events are no longer in a 2-level file
    r.apply(parsed('1.3,3,3,5,1010000,1'));
    expect(r.row()).toBe('9999999999,0,1000000,5,9999999999,0,990000,5');
    expect(r.knownLevels('buy')).toBe(1);
    expect(r.knownLevels('sell')).toBe(2);
  });

  it('seeds from resting orders (NDJSON and CSV), alone or inside an orderbook row', () => {
    const orders = parseLobsterSnapshot(['{"id":1,"side":"buy","price":1000000,"size":4}', 'id,side,price,size', '2,sell,101.00,3', '3,b,1000000,6'].join('\n'));
    expect(orders.orders).toEqual([
      { id: 1, side: 'buy', price: 1000000, size: 4 },
      { id: 2, side: 'sell', price: 1010000, size: 3 },
      { id: 3, side: 'buy', price: 1000000, size: 6 },
    ]);
    const alone = new LobsterBookReplayer({ levels: 1, initial: orders });
    expect(alone.row()).toBe('1010000,3,1000000,10');
    alone.apply(parsed('1.0,3,3,6,1000000,1'));
    expect(alone.row()).toBe('1010000,3,1000000,4');
    expect(alone.rowKnown()).toBe(true);

    const inRow = new LobsterBookReplayer({ levels: 1, initial: { row: [1010000, 3, 1000000, 12], orders: orders.orders } });
    inRow.apply(parsed('1.0,3,99,2,1000000,1')); // an unlisted order: the 2 the row has beyond the listed 10
    expect(inRow.row()).toBe('1010000,3,1000000,10');
    expect(inRow.stats.matchedToSnapshot).toBe(1);
    expect(() => new LobsterBookReplayer({ levels: 1, initial: { row: [1010000, 3, 1000000, 9], orders: orders.orders } })).toThrow(/add up to more/);
  });

  it('rejects snapshot files it cannot read, with file and line', () => {
    expect(() => parseLobsterSnapshot('1,2,3,4\n5,6,7,8', 'x.csv')).toThrow(/x\.csv:2: a second orderbook row/);
    expect(() => parseLobsterSnapshot('{"id":1,"side":"up","price":1,"size":1}', 'x')).toThrow(/x:1: side must be buy or sell/);
    expect(() => parseLobsterSnapshot('id,side,size\n', 'x')).toThrow(/missing price/);
    expect(() => new LobsterBookReplayer({ levels: 2, initial: parseLobsterSnapshot('9999999999,0,1000000,1,1010000,1,990000,1') })).toThrow(/real level after an empty/);
  });
});

class Collect implements Emit {
  events: ExchangeEvent[] = [];
  rejects: Array<{ reason: string; line: number; type?: string }> = [];
  event(e: ExchangeEvent): void {
    this.events.push(e);
  }
  reject(reason: string, _raw: string, pos: RecordPosition, type?: string): void {
    this.rejects.push({ reason, line: pos.line, type });
  }
}

function decodeAll(lines: string[], opts: Record<string, unknown>): Collect {
  const d = new LobsterDecoder(opts);
  const out = new Collect();
  lines.forEach((l, i) => d.decode(l, { source: String(opts.source ?? 'x'), line: i + 1 }, out));
  return out;
}

describe('LobsterDecoder', () => {
  it('maps every message type to valid canonical events with exact prices and deterministic ids', () => {
    const out = decodeAll(
      [
        '34200.004241176,1,16113575,18,5853300,1',
        '34200.1,2,16113575,5,5853300,1',
        '34200.2,2,999,5,5853300,-1',
        '34200.3,4,16113575,3,5853300,1',
        '34200.4,5,0,100,5857900,-1',
        '34200.5,6,42,500,5857000,-1',
        '34200.6,3,16113575,10,5853300,1',
        '36023,7,0,0,-1,-1',
        '36323,7,0,0,0,-1',
        '36723,7,0,0,1,-1',
      ],
      { market: 'AAPL', date: '2012-06-21' },
    );
    expect(out.rejects).toEqual([]);
    for (const e of out.events) expect(ExchangeEvent.safeParse(e).success, JSON.stringify(e)).toBe(true);
    const [placed, amended, amendedUnknown, exec, hidden, cross, cancelled, halt, quoting, resume] = out.events;
    expect(placed).toEqual({
      id: 'lobster:AAPL:2012-06-21:1', ts: Date.UTC(2012, 5, 21, 13, 30, 0, 4), seq: 1, source: 'lobster', market: 'AAPL',
      type: 'order.placed', accountId: 'anonymous', orderId: '16113575', side: 'buy', orderType: 'limit', timeInForce: 'GTC', price: '585.3300', size: '18',
    });
    expect(amended).toMatchObject({ type: 'order.amended', orderId: '16113575', size: '13', prevSize: '18', price: '585.3300' });
    expect(amendedUnknown).toMatchObject({ type: 'order.amended', orderId: '999', price: '585.3300' });
    expect(amendedUnknown).not.toHaveProperty('size');
    expect(exec).toMatchObject({ type: 'trade', tradeId: 'lobster:AAPL:2012-06-21:4', price: '585.3300', size: '3', aggressor: 'sell', makerOrderId: '16113575' });
    expect(hidden).toMatchObject({ type: 'trade', price: '585.7900', size: '100', aggressor: 'buy' });
    expect(hidden).not.toHaveProperty('makerOrderId');
    expect(cross).toMatchObject({ type: 'trade', aggressor: 'unknown', size: '500' });
    expect(cancelled).toMatchObject({ type: 'order.cancelled', orderId: '16113575', remainingSize: '10', reason: 'user' });
    expect(halt).toMatchObject({ type: 'book.status', status: 'unreliable', reason: 'trading halt' });
    expect(quoting).toMatchObject({ type: 'book.status', status: 'unreliable' });
    expect(resume).toMatchObject({ type: 'book.status', status: 'reliable', reason: 'trading resumed' });
  });

  it('takes ticker and date from a LOBSTER file name, and defaults without one', () => {
    expect(parseLobsterFileName(`/data/${MSG_NAME}`)).toEqual({ ticker: 'AAPL', date: '2012-06-21', kind: 'message', levels: 10 });
    expect(parseLobsterFileName('trades.csv')).toBeUndefined();
    const named = decodeAll([msgs[0]], { source: MSG_NAME });
    expect(named.events[0]).toMatchObject({ id: 'lobster:AAPL:2012-06-21:1', market: 'AAPL', ts: Date.UTC(2012, 5, 21, 13, 30, 0, 4) });
    const plain = decodeAll([msgs[0]], { source: 'm.csv' });
    expect(plain.events[0]).toMatchObject({ id: 'lobster:LOBSTER:1970-01-01:1', market: 'LOBSTER', ts: 34_200_004 });
    const tick = decodeAll(['1.5,1,1,2,5853300,-1'], { tickDivisor: 100 });
    expect(tick.events[0]).toMatchObject({ price: '58533.00', side: 'sell', ts: 1500 });
    expect(() => new LobsterDecoder({ tickDivisor: 3 })).toThrow(/power of ten/);
    expect(() => new LobsterDecoder({ date: '2012-13-40' })).toThrow(/not a calendar date/);
  });

  it('sends malformed lines to dead letters with their line numbers, and never throws', () => {
    const out = decodeAll(
      [
        '34200.1,1,1,10,5853300,1',
        '',
        'Time,Type,OrderID,Size,Price,Direction',
        '34200.2,1,2,10,5853300',
        '34200.3,8,3,10,5853300,1',
        '34200.4,1,4,0,5853300,1',
        '34200.5,1,5,10,-5,1',
        '34200.6,1,6,10,5853300,2',
        '34200.7,7,0,0,5,-1',
        '34200.8,1,7,1e3,5853300,1',
        '9:30:00,1,8,10,5853300,1',
      ],
      {},
    );
    expect(out.events).toHaveLength(1);
    expect(out.rejects.map((r) => r.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(out.rejects.map((r) => r.reason)).toEqual([
      expect.stringMatching(/column 1 \(time\)/),
      expect.stringMatching(/expected 6 columns .* got 5/),
      expect.stringMatching(/column 2 \(type\): expected 1-7, got 8/),
      expect.stringMatching(/column 4 \(size\): expected a positive integer, got 0/),
      expect.stringMatching(/column 5 \(price\)/),
      expect.stringMatching(/column 6 \(direction\)/),
      expect.stringMatching(/type 7 .* got 5/),
      expect.stringMatching(/column 4 \(size\): expected an integer/),
      expect.stringMatching(/column 1 \(time\)/),
    ]);
    expect(out.rejects[3].type).toBe('order.placed');
  });

  it('is sniffed from a message line, including nanosecond times and halts', () => {
    expect(sniffFormat('34200.004241176,1,16113575,18,5853300,1')).toBe('lobster');
    expect(sniffFormat('34200.27769919,3,15847383,100,5873900,-1')).toBe('lobster');
    expect(sniffFormat('36023,7,0,0,-1,-1')).toBe('lobster');
  });
});

describe('riskloop replay --format lobster', () => {
  // Counted straight from the type column: 145 new orders, 83 deletions, 37 visible + 18 hidden executions.
  const expected = { 'order.placed': 145, 'order.cancelled': 83, trade: 55 };

  it('summarises the real file by event type, market and time', async () => {
    const types = msgs.map((l) => l.split(',')[1]);
    expect(types.filter((t) => t === '1')).toHaveLength(145);
    expect(types.filter((t) => t === '3')).toHaveLength(83);
    expect(types.filter((t) => t === '4' || t === '5')).toHaveLength(55);
    for (const args of [['--format', 'lobster'], []]) {
      const { stdout } = await cli(['replay', ...args, join(FIX, MSG_NAME), '--json', '-q']);
      const s = JSON.parse(stdout);
      expect(s).toMatchObject({ accepted: 283, rejected: 0, acceptedByType: expected, acceptedByMarket: { AAPL: 283 } });
      expect(s.firstEventTime).toBe(Date.UTC(2012, 5, 21, 13, 30, 0, 4)); // 09:30:00.004 New York
      expect(s.lastEventTime).toBe(Date.UTC(2012, 5, 21, 13, 30, 3, 321));
    }
  });

  it('counts malformed lines as rejected, with line numbers in the dead letters', async () => {
    const dir = join(tmp, 'replay-bad');
    await run('mkdir', ['-p', dir]);
    const file = join(dir, 'm.csv');
    await writeFile(file, [msgs[0], 'oops,1,2', msgs[1], '34200.3,4,1,5,0,1'].join('\n') + '\n');
    const dl = join(dir, 'dl.ndjson');
    const { stdout } = await cli(['replay', '--format', 'lobster', file, '--json', '-q', '--dead-letters', dl]);
    expect(JSON.parse(stdout)).toMatchObject({ accepted: 2, rejected: 2, acceptedByType: { 'order.placed': 2 }, rejectedByType: { '(unknown)': 1, trade: 1 } });
    const dead = (await readFile(dl, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(dead.map((d) => [d.line, d.format])).toEqual([[2, 'lobster'], [4, 'lobster']]);
  });
});
