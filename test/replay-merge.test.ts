import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cli, DATA } from './helpers/cli.js';

// `riskloop replay a b …` merges its inputs by event time. The reference here is written
// independently: replay each input alone to canonical NDJSON, then merge those lines by `ts`
// (ties to the earlier input, each input kept in its own order) into one pre-merged file.

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);

/** Reference k-way merge: repeatedly take the input whose next line has the smallest ts (earliest input on ties). */
function mergeByTs(inputs: string[][]): string[] {
  const ts = inputs.map((ls) => ls.map((l) => (JSON.parse(l) as { ts: number }).ts));
  const at = inputs.map(() => 0);
  const out: string[] = [];
  for (;;) {
    let k = -1;
    for (let i = 0; i < inputs.length; i++) if (at[i] < inputs[i].length && (k < 0 || ts[i][at[i]] < ts[k][at[k]])) k = i;
    if (k < 0) return out;
    out.push(inputs[k][at[k]++]);
  }
}

/** The first `n` lines of a real capture, gzipped again (keeps the test quick on a busy machine). */
function capturePrefix(name: string, n: number, dir: string): string {
  const text = gunzipSync(readFileSync(join(DATA, 'market', name))).toString('utf8');
  let end = 0;
  for (let i = 0; i < n && end >= 0; i++) end = text.indexOf('\n', end + 1);
  const out = join(dir, name);
  writeFileSync(out, gzipSync(end < 0 ? text : text.slice(0, end + 1)));
  return out;
}

describe('riskloop replay with several inputs', () => {
  it('merges real Binance spot and USDⓈ-M captures by event time, as one pre-merged file would replay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-merge-'));
    const spotFile = capturePrefix('binance-spot-btcusdt-20240808.ndjson.gz', 6_000, dir);
    const usdmFile = capturePrefix('binance-usdm-btcusdt-20240808.ndjson.gz', 6_000, dir);
    const alone = async (file: string, out: string) => {
      const { stdout } = await cli(['replay', file, '--no-surveillance', '-q', '--json', '--out', out]);
      return { lines: lines(out), summary: JSON.parse(stdout) };
    };
    const merged = join(dir, 'merged.ndjson');
    const [spot, usdm, m] = await Promise.all([
      alone(spotFile, join(dir, 'spot.ndjson')),
      alone(usdmFile, join(dir, 'usdm.ndjson')),
      cli(['replay', spotFile, usdmFile, '--no-surveillance', '-q', '--json', '--out', merged]),
    ]);
    const reference = mergeByTs([spot.lines, usdm.lines]);
    const got = lines(merged);
    expect(got.length).toBe(spot.lines.length + usdm.lines.length);
    expect(got).toEqual(reference);
    // Really interleaved, not concatenated: the market switches back and forth all along.
    const markets = got.map((l) => (JSON.parse(l) as { market: string }).market);
    expect(markets.filter((x, i) => i > 0 && x !== markets[i - 1]).length).toBeGreaterThan(500);

    const ms = JSON.parse(m.stdout);
    expect(ms.rejected).toBe(0);
    expect(ms.accepted).toBe(spot.summary.accepted + usdm.summary.accepted);
    expect(ms.acceptedByTypeAndMarket.trade).toEqual({ ...spot.summary.acceptedByTypeAndMarket.trade, ...usdm.summary.acceptedByTypeAndMarket.trade });
    expect(ms.firstEventTime).toBe(Math.min(spot.summary.firstEventTime, usdm.summary.firstEventTime));
    expect(ms.lastEventTime).toBe(Math.max(spot.summary.lastEventTime, usdm.summary.lastEventTime));
  }, 120_000);

  it('replays simulator output split into files (plain, gzip, CSV) with the alerts and summary of the pre-merged file; dead letters keep their source and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-merge-sim-'));
    const run = join(dir, 'run');
    // A short run with abuse early and often, so there are alerts to compare.
    writeFileSync(join(dir, 'sim.json'), JSON.stringify({ abuse: { warmupMs: 60_000, guardMs: 20_000 } }));
    await cli(['simulate', '--seed', '5', '--duration', '6m', '--intensity', '6', '--traffic', '0.4', '--config', join(dir, 'sim.json'), '--out', run, '-q']);
    const all = lines(join(run, 'events.ndjson'));
    // Split by market: perpetuals and indices to one file (gzipped), everything else to the other.
    const isPerp = (l: string) => /"market":"[A-Z]+-(PERP|INDEX)"/.test(l);
    const a = all.filter((l) => !isPerp(l));
    const b = all.filter(isPerp);
    expect(a.length).toBeGreaterThan(1000);
    expect(b.length).toBeGreaterThan(1000);
    writeFileSync(join(dir, 'a.ndjson'), a.join('\n') + '\n');
    // One garbage line, line 3 of b: it must be dead-lettered with b's name and line.
    writeFileSync(join(dir, 'b.ndjson.gz'), gzipSync([b[0], b[1], '{"type":"trade","id":', ...b.slice(2)].join('\n') + '\n'));
    // A third input in another format: a few CSV trades of an outside market inside the run's time span.
    const t0 = (JSON.parse(all[0]) as { ts: number }).ts;
    const csv = ['time,price,size,side,id,market', ...[1, 2, 3, 4].map((i) => `${t0 + i * 150_000},1.5${i},${i},${i % 2 ? 'buy' : 'sell'},${i},OTCUSDT`)];
    writeFileSync(join(dir, 'c.csv.gz'), gzipSync(csv.join('\n') + '\n'));
    const csvFlags = ['--csv-side', 'side', '--csv-id', 'id', '--csv-market', 'market'];
    await cli(['replay', join(dir, 'c.csv.gz'), ...csvFlags, '--no-surveillance', '-q', '--out', join(dir, 'c.ndjson')]);
    const c = lines(join(dir, 'c.ndjson'));
    expect(c).toHaveLength(4);
    writeFileSync(join(dir, 'pre-merged.ndjson'), mergeByTs([a, b, c]).join('\n') + '\n');

    const [m, p] = await Promise.all([
      cli(['replay', join(dir, 'a.ndjson'), join(dir, 'b.ndjson.gz'), join(dir, 'c.csv.gz'), ...csvFlags, '-q', '--json', '--alerts', join(dir, 'merged-alerts.ndjson'), '--dead-letters', join(dir, 'dead.ndjson')]),
      cli(['replay', join(dir, 'pre-merged.ndjson'), '-q', '--json', '--alerts', join(dir, 'pre-merged-alerts.ndjson')]),
    ]);
    const ms = JSON.parse(m.stdout);
    const ps = JSON.parse(p.stdout);
    expect(ms.accepted).toBe(all.length + 4);
    expect(ms.accepted).toBe(ps.accepted);
    expect(ms.acceptedByTypeAndMarket).toEqual(ps.acceptedByTypeAndMarket);
    expect(ms.rejected).toBe(1);
    const dead = lines(join(dir, 'dead.ndjson')).map((l) => JSON.parse(l));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ source: 'b.ndjson.gz', line: 3, format: 'ndjson', raw: '{"type":"trade","id":' });

    // Same alerts, in the same order, as the pre-merged file (and there are some to compare).
    expect(existsSync(join(dir, 'merged-alerts.ndjson'))).toBe(true);
    const alerts = readFileSync(join(dir, 'merged-alerts.ndjson'), 'utf8');
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts).toBe(readFileSync(join(dir, 'pre-merged-alerts.ndjson'), 'utf8'));
    expect(ms.surveillance.alerts).toEqual(ps.surveillance.alerts);
    expect(ms.surveillance.engine.lateEvents).toBe(ps.surveillance.engine.lateEvents);
  }, 120_000);
});
