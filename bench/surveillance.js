import { simulate } from '../dist/sim/simulator.js';
import { SurveillanceEngine } from '../dist/surveillance/engine.js';
import { NdjsonDecoder } from '../dist/sources/ndjson.js';
import { L3Book } from '../dist/market/l3-book.js';
import { best, fmt, gc, percentile, table } from './util.js';

function engine() {
  return new SurveillanceEngine({ sinks: [{ onAlert() {} }] });
}

async function runEngine(events) {
  const e = engine();
  for (let i = 0; i < events.length; i++) e.onEvent(events[i]);
  await e.finish();
}

async function runNdjson(lines) {
  const e = engine();
  const d = new NdjsonDecoder();
  const pos = { source: 'bench', line: 0 };
  const out = { event: (ev) => e.onEvent(ev), reject() {} };
  for (let i = 0; i < lines.length; i++) {
    pos.line = i + 1;
    d.decode(lines[i], pos, out);
  }
  await e.finish();
}

/** Heap held after 1,000,000 resting orders (placed far from each other, so none trade): the engine, and a bare L3 book as baseline. */
async function restingOrdersMemory(n) {
  const t0 = 1_730_000_000_000;
  gc();
  const b0 = process.memoryUsage().heapUsed;
  let book = new L3Book();
  for (let i = 0; i < n; i++) book.add(`${i}`, i % 2 === 0 ? 'buy' : 'sell', i % 2 === 0 ? 4_000_000 - (Math.floor(i / 2) % 20_000) : 6_000_000 + (Math.floor(i / 2) % 20_000), 10, t0 + i);
  gc();
  const bookBytes = process.memoryUsage().heapUsed - b0;
  const kept = book.orderCount;
  book = null;
  gc();
  const before = process.memoryUsage().heapUsed;
  const e = engine();
  for (let i = 0; i < n; i++) {
    const buy = i % 2 === 0;
    const level = Math.floor(i / 2) % 20_000;
    e.onEvent({
      type: 'order.placed', id: `o${i}`, ts: t0 + i, market: 'BTCUSDT', accountId: `a${i % 5000}`, orderId: `${i}`,
      side: buy ? 'buy' : 'sell', orderType: 'limit', timeInForce: 'GTC',
      price: buy ? (40000 - level * 0.01).toFixed(2) : (60000 + level * 0.01).toFixed(2), size: '0.010',
    });
  }
  gc();
  const engineBytes = process.memoryUsage().heapUsed - before;
  await e.finish();
  return { engineBytes, bookBytes, kept };
}

export const surveillanceSection = {
  id: 'surveillance',
  title: 'Surveillance engine: throughput, latency and memory with every detector on',
  async run() {
    const events = [];
    simulate({ seed: 42, duration: '20m' }, (e) => events.push(e));
    const lines = events.map((e) => JSON.stringify(e));
    const n = events.length;
    const memMs = await best(() => runEngine(events), 2);
    const ndMs = await best(() => runNdjson(lines), 2);
    let parsed = 0; // consumed below so the loop is not optimised away
    const parseMs = await best(() => {
      for (const l of lines) parsed += JSON.parse(l).ts > 0 ? 1 : 0;
    }, 3);
    // Per-event latency, in-memory path.
    const e = engine();
    const lat = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      e.onEvent(events[i]);
      lat[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
    await e.finish();
    const sorted = Array.from(lat).sort((a, b) => a - b);
    const mem = await restingOrdersMemory(1_000_000);
    const perSec = (ms) => (n / ms) * 1000;
    if (parsed === 0) throw new Error('baseline parsed nothing');
    return [
      `Command: \`npm run bench\` (section \`surveillance\`). Input: ${fmt(n)} events of a simulated exchange (seed 42, 20 minutes, abuse on), all built-in detectors with default config, one core.`,
      '',
      table(
        ['figure', 'value', 'baseline in the same run', 'ratio'],
        [
          ['events/s, in-memory canonical events', fmt(perSec(memMs)), '', `${(perSec(memMs) / 1e6).toFixed(2)}× the 1,000,000/s target`],
          ['events/s, from NDJSON (decode + validate + engine)', fmt(perSec(ndMs)), `bare JSON.parse loop: ${fmt(perSec(parseMs))}/s`, `${((parseMs / ndMs) * 100).toFixed(0)}% of JSON.parse speed; ${(perSec(ndMs) / 3e5).toFixed(2)}× the 300,000/s target`],
          ['latency per event p50 (µs)', sorted.length ? percentile(sorted, 50).toFixed(2) : 'n/a', '', ''],
          ['latency per event p99 (µs)', sorted.length ? percentile(sorted, 99).toFixed(2) : 'n/a', '', `${(percentile(sorted, 99) / 1000).toFixed(3)}× the 1 ms target`],
          ['latency per event max (µs)', sorted.length ? sorted[sorted.length - 1].toFixed(0) : 'n/a', '', ''],
          ['heap for 1,000,000 resting orders, engine (MB)', fmt(mem.engineBytes / 2 ** 20, 1), `bare L3Book: ${fmt(mem.bookBytes / 2 ** 20, 1)} MB`, `${(mem.engineBytes / 2 ** 20 / 300).toFixed(2)}× the 300 MB budget`],
        ],
      ),
    ].join('\n');
  },
};
