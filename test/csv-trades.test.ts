import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTimestamp, splitCsvLine } from '../src/sources/csv-trades.js';
import { cli } from './helpers/cli.js';

describe('CSV trades', () => {
  it('splits quoted fields', () => {
    expect(splitCsvLine('a,"b,c",d')).toEqual(['a', 'b,c', 'd']);
    expect(splitCsvLine('"x ""y""",1')).toEqual(['x "y"', '1']);
    expect(splitCsvLine('1;2;3', ';')).toEqual(['1', '2', '3']);
  });
  it('reads seconds, ms, µs, ns and ISO timestamps', () => {
    expect(parseTimestamp('1723161256')).toBe(1723161256000);
    expect(parseTimestamp('1723161256.322')).toBe(1723161256322);
    expect(parseTimestamp('1723161256322')).toBe(1723161256322);
    expect(parseTimestamp('1723161256322123')).toBe(1723161256322);
    expect(parseTimestamp('1723161256322123456')).toBe(1723161256322);
    expect(parseTimestamp('2024-08-08T23:54:16.322Z')).toBe(1723161256322);
    expect(parseTimestamp('yesterday')).toBeUndefined();
  });
  it('maps columns by flags and rejects bad rows with reasons', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-'));
    const file = join(dir, 'trades.csv');
    writeFileSync(file, ['id;ts;px;qty;maker', '1;2024-08-08T23:54:16.322Z;61800.10;0.010;true', '2;1723161256400;61800.20;0.500;false', '3;1723161256401;-1;0.5;true', '4;1723161256402;61800.3;0.1;maybe', ''].join('\n'));
    const { stdout } = await cli(['replay', file, '--format', 'csv', '--market', 'BTCUSDT', '--csv-delimiter', ';', '--csv-id', 'id', '--csv-time', 'ts', '--csv-price', 'px', '--csv-size', 'qty', '--csv-side', 'maker', '--json', '--out', join(dir, 'out.ndjson')]);
    const s = JSON.parse(stdout);
    expect(s.accepted).toBe(2);
    expect(s.rejected).toBe(2);
    expect(s.acceptedByTypeAndMarket.trade).toEqual({ BTCUSDT: 2 });
    const { stdout: events } = await cli(['replay', join(dir, 'out.ndjson'), '--out', '-', '-q']);
    const [a, b] = events.trim().split('\n').map((l) => JSON.parse(l));
    expect([a.price, a.size, a.aggressor, a.ts]).toEqual(['61800.10', '0.010', 'sell', 1723161256322]);
    expect([b.price, b.aggressor]).toEqual(['61800.20', 'buy']);
  });
  it('explains a header that lacks the mapped columns', async () => {
    const { stdout } = await cli(['replay', '-', '--format', 'csv', '--json', '--dead-letters', '-'], { input: 'a,b\n1,2\n' });
    const first = JSON.parse(stdout.split('\n')[0]);
    expect(first.line).toBe(1);
    expect(first.reason).toMatch(/CSV header lacks mapped column\(s\) time="time", price="price", size="size"/);
  });
});
