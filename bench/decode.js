import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createDecoder } from '../dist/sources/registry.js';
import { simulate } from '../dist/sim/simulator.js';
import { fmt, gc, table } from './util.js';

const DATA = fileURLToPath(new URL('../../shared/data/market/', import.meta.url));

function lines(path) {
  const buf = readFileSync(path);
  const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
  return text.split('\n').filter((l) => l.length > 0);
}

function decodeAll(format, input, sink) {
  const d = createDecoder(format, { source: 'bench' });
  const pos = { source: 'bench', line: 0 };
  for (let i = 0; i < input.length; i++) {
    pos.line = i + 1;
    d.decode(input[i], pos, sink);
  }
  d.end?.(pos, sink);
}

/**
 * Best CPU times of several functions, their runs interleaved (a, b, a, b, …) after a warm-up, so
 * that a decoder and its baseline see the same load on a shared machine.
 */
function bestInterleaved(fns, reps = 9) {
  for (const fn of fns) fn();
  const best = fns.map(() => Infinity);
  for (let r = 0; r < reps; r++) {
    fns.forEach((fn, i) => {
      gc();
      const c = process.cpuUsage();
      fn();
      const d = process.cpuUsage(c);
      best[i] = Math.min(best[i], (d.user + d.system) / 1000);
    });
  }
  return best;
}

/** Decodes every line with the format's decoder; the baseline JSON.parses the same lines. */
async function measure(name, format, input, jsonOf) {
  const sink = { events: 0, dead: 0, event() { this.events++; }, reject() { this.dead++; } };
  let decoded = 0;
  let keep = 0;
  const [ms, baseMs] = bestInterleaved([
    () => {
      sink.events = sink.dead = 0;
      decodeAll(format, input, sink);
      decoded = sink.events;
    },
    () => {
      for (let i = 0; i < input.length; i++) keep += jsonOf(input[i]) ? 1 : 0;
    },
  ]);
  if (keep === 0 || sink.dead > 0) throw new Error(`${name}: baseline parsed nothing or ${sink.dead} rejects`);
  return { name, lines: input.length, events: decoded, ms, baseMs };
}

/**
 * With decoding in a worker (replay's decodeInWorker), the engine's thread only JSON.parses the
 * worker's batches of validated events: that cost against decoding on the engine's thread.
 */
async function engineThreadShare(name, format, input) {
  const batches = [];
  let cur = [];
  decodeAll(format, input, {
    event(e) {
      cur.push(JSON.stringify(e));
      if (cur.length === 4096) {
        batches.push(`[${cur.join(',')}]`);
        cur = [];
      }
    },
    reject() {},
  });
  batches.push(`[${cur.join(',')}]`);
  let n = 0;
  const [decodeMs, parseMs] = bestInterleaved([
    () => decodeAll(format, input, { event() { n++; }, reject() {} }),
    () => {
      for (const b of batches) n += JSON.parse(b).length;
    },
  ]);
  if (n === 0) throw new Error(`${name}: nothing decoded`);
  return { name, lines: input.length, decodeMs, parseMs };
}

export const decodeSection = {
  id: 'decode',
  title: 'Decoding: lines per second against a bare JSON.parse loop',
  async run() {
    const spot = lines(`${DATA}binance-spot-btcusdt-20240808.ndjson.gz`);
    const usdm = lines(`${DATA}binance-usdm-btcusdt-20240808.ndjson.gz`);
    const bitget = lines(`${DATA}bitget-spot-ws-20220407.txt`);
    const afterSpace = (l) => JSON.parse(l.slice(l.indexOf(' ') + 1));
    // Bitget lines are `<url> <- <time>: <json>` (or a connection line without JSON).
    const bitgetJson = (l) => {
      const i = l.indexOf(': {');
      return i > 0 ? JSON.parse(l.slice(i + 2)) : 1;
    };
    // Canonical NDJSON: the decoded futures events re-encoded, and the simulator's events (the surveillance bench's input).
    const canon = [];
    decodeAll('binance', usdm, { event: (e) => canon.push(JSON.stringify(e)), reject() {} });
    const sim = [];
    simulate({ seed: 42, duration: '20m' }, (e) => sim.push(JSON.stringify(e)));
    const results = [
      await measure('binance spot', 'binance', spot, afterSpace),
      await measure('binance USDⓈ-M', 'binance', usdm, afterSpace),
      await measure('bitget spot', 'bitget', bitget, bitgetJson),
      await measure('ndjson (USDⓈ-M re-encoded)', 'ndjson', canon, (l) => JSON.parse(l)),
      await measure('ndjson (simulator, seed 42, 20 min)', 'ndjson', sim, (l) => JSON.parse(l)),
    ];
    const rows = results.map((r) => [r.name, fmt(r.lines), fmt(r.events), fmt((r.lines / r.ms) * 1000), fmt((r.lines / r.baseMs) * 1000), `${((r.baseMs / r.ms) * 100).toFixed(0)}%`]);
    const shares = [
      await engineThreadShare('binance spot', 'binance', spot),
      await engineThreadShare('binance USDⓈ-M', 'binance', usdm),
      await engineThreadShare('ndjson (simulator)', 'ndjson', sim),
    ];
    const shareRows = shares.map((s) => [s.name, fmt((s.lines / s.decodeMs) * 1000), fmt((s.lines / s.parseMs) * 1000), `${(s.decodeMs / s.parseMs).toFixed(2)}×`]);
    return [
      'Input: the real captures in `../shared/data/market` (Binance spot and USDⓈ-M BTCUSDT, Bitget spot), decoded in memory; `ndjson` decodes the canonical re-encoding of the USDⓈ-M events and the simulator\'s events (schema-validated). Lines per CPU-second of the process (`process.cpuUsage`), best of 9 runs after a warm-up, each decoder\'s runs interleaved with those of its JSON.parse baseline, which parses the same lines (Binance: the JSON after the receive time; Bitget: the JSON after `: `) in the same run. A Bitget line carries many events (book levels, candles), hence its low share.',
      '',
      table(['input', 'lines', 'events', 'lines/s', 'JSON.parse lines/s', 'share of JSON.parse speed'], rows),
      '',
      'Decoding in a worker thread (`replay(…, { decodeInWorker: true })`, off by default): the engine\'s thread then only JSON.parses the worker\'s batches of validated events (and no longer reads, gunzips or splits lines, not counted here). Engine-thread CPU per line, same run:',
      '',
      table(['input', 'decode on the engine thread, lines/s', 'engine thread with a decode worker, lines/s', 'engine-thread CPU saved'], shareRows),
    ].join('\n');
  },
};
