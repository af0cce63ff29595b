import { simulate } from '../dist/sim/simulator.js';
import { SurveillanceEngine } from '../dist/surveillance/engine.js';
import { PartitionRuntime } from '../dist/surveillance/runtime.js';
import { parseConfig } from '../dist/surveillance/config.js';
import { BUILTIN_DETECTORS } from '../dist/surveillance/detectors/index.js';
import { Watermark } from '../dist/stream/watermark.js';
import { NdjsonDecoder } from '../dist/sources/ndjson.js';
import { L3Book } from '../dist/market/l3-book.js';
import { execFileSync } from 'node:child_process';
import { bestCpu, fmt, gc, percentile, table } from './util.js';

/** `only`: names of the detectors to enable (default: every built-in with its default config). */
function configOf(only) {
  if (only === undefined) return {};
  const detectors = {};
  for (const d of BUILTIN_DETECTORS) detectors[d.name] = { enabled: only.includes(d.name) };
  return { detectors };
}

function engine(only) {
  return new SurveillanceEngine({ sinks: [{ onAlert() {} }], config: configOf(only) });
}

/**
 * Engines of the configuration being measured, kept alive between its runs (see childRun: a collected
 * engine takes with it the hidden classes the optimised code relied on); cleared between configurations.
 */
let alive = [];
let aliveKey = '';

async function runEngine(events, only) {
  const key = only === undefined ? '*' : only.join(',');
  if (key !== aliveKey) {
    alive = [];
    aliveKey = key;
  }
  const e = engine(only);
  for (let i = 0; i < events.length; i++) e.onEvent(events[i]);
  await e.finish();
  alive.push(e);
}

function decodeInto(lines, emit) {
  const d = new NdjsonDecoder();
  const pos = { source: 'bench', line: 0 };
  const out = { event: emit, reject() {} };
  for (let i = 0; i < lines.length; i++) {
    pos.line = i + 1;
    d.decode(lines[i], pos, out);
  }
}

async function runNdjson(lines) {
  const e = engine();
  decodeInto(lines, (ev) => e.onEvent(ev));
  await e.finish();
}

/** The floor of any event processor: one call per event through a table keyed by event type. */
function bareDispatch(events) {
  const counts = Object.create(null);
  const handlers = Object.create(null);
  for (const e of events) handlers[e.type] ??= (ev) => (counts[ev.type] = (counts[ev.type] ?? 0) + 1);
  return () => {
    for (let i = 0; i < events.length; i++) handlers[events[i].type](events[i]);
    if (counts.trade === undefined && counts['order.placed'] === undefined) throw new Error('dispatch saw nothing');
  };
}

/**
 * A fresh Node process started with `flags`, holding only the simulated events (and, for `ndjson`,
 * their lines): the shape of a deployment, which runs one engine configuration. Returns the best CPU
 * ms of 3 runs of every detector after two warm-up runs (every engine kept alive: see below), and
 * the same-process baseline measured first (a
 * bare dispatch loop over the events, or a bare JSON.parse loop over the lines). The in-process runs
 * of this section come after the simulation, the other configurations and the NDJSON lines, and the
 * whole bench's earlier sections: their heap and JIT feedback are the harness's, not the engine's.
 */
function childRun(mode, flags = []) {
  const dist = (f) => new URL(`../dist/${f}`, import.meta.url).href;
  const code = `
    import { simulate } from '${dist('sim/simulator.js')}';
    import { SurveillanceEngine } from '${dist('surveillance/engine.js')}';
    import { NdjsonDecoder } from '${dist('sources/ndjson.js')}';
    const events = [];
    simulate({ seed: 42, duration: '20m' }, (e) => events.push(e));
    const lines = ${JSON.stringify(mode)} === 'ndjson' ? events.map((e) => JSON.stringify(e)) : undefined;
    if (lines) events.length = 0;
    const cpu = async (fn, reps, warmups = 1) => {
      let best = Infinity;
      for (let r = 0; r < warmups + reps; r++) {
        globalThis.gc();
        const c = process.cpuUsage();
        await fn();
        const d = process.cpuUsage(c);
        if (r >= warmups) best = Math.min(best, (d.user + d.system) / 1000);
      }
      return best;
    };
    // Engines of earlier runs stay alive: once one is collected, V8 drops the hidden classes its
    // optimised code relied on, and the next run deoptimises and re-optimises on the way (measured:
    // runs alternating between about 4 and 7 µs per event). A deployment runs one engine for hours.
    const engines = [];
    let sink = 0;
    let base;
    if (lines) base = await cpu(() => { for (const l of lines) sink += JSON.parse(l).ts > 0 ? 1 : 0; }, 5);
    else {
      const handlers = Object.create(null);
      for (const e of events) handlers[e.type] ??= () => sink++;
      base = await cpu(() => { for (let i = 0; i < events.length; i++) handlers[events[i].type](events[i]); }, 5);
    }
    const run = async () => {
      const e = new SurveillanceEngine({ sinks: [{ onAlert() {} }] });
      if (lines) {
        const d = new NdjsonDecoder();
        const pos = { source: 'bench', line: 0 };
        const out = { event: (ev) => e.onEvent(ev), reject() {} };
        for (let i = 0; i < lines.length; i++) { pos.line = i + 1; d.decode(lines[i], pos, out); }
      } else for (let i = 0; i < events.length; i++) e.onEvent(events[i]);
      await e.finish();
      sink += e.stats().events;
      engines.push(e);
    };
    const ms = await cpu(run, 3, 2);
    if (sink === 0) throw new Error('nothing ran');
    process.stdout.write(JSON.stringify({ ms, base, n: lines ? lines.length : events.length }));
  `;
  return JSON.parse(execFileSync(process.execPath, [...flags, '--expose-gc', '--input-type=module', '-e', code], { encoding: 'utf8', maxBuffer: 1 << 20 }));
}

/** Events in the order the engine's watermark (default config) releases them. */
function releaseOrder(events) {
  const out = [];
  const cfg = parseConfig({}).watermark;
  const wm = new Watermark({ onRelease: (e) => out.push(e), onLate: (e) => out.push(e), onTooLate() {} }, { maxOutOfOrderMs: cfg.maxOutOfOrderMs, allowedLatenessMs: cfg.allowedLatenessMs });
  for (const e of events) wm.push(e, e.ts);
  wm.flush();
  return out;
}

/** CPU ms of the engine with no detector, then with each detector alone (same events, same run). */
async function detectorCosts(events) {
  const none = await bestCpu(() => runEngine(events, []), 3);
  const rows = [];
  for (const d of BUILTIN_DETECTORS.filter((x) => x.enabledByDefault)) rows.push({ name: d.name, ms: await bestCpu(() => runEngine(events, [d.name]), 3) });
  return { none, rows };
}

/** Heap (including typed-array backing stores) held after placing `n` orders far enough apart that none trade. */
function heapNow() {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function restingOrdersMemory(n) {
  const t0 = 1_730_000_000_000;
  const b0 = heapNow();
  let book = new L3Book();
  for (let i = 0; i < n; i++) book.add(`${i}`, i % 2 === 0 ? 'buy' : 'sell', i % 2 === 0 ? 4_000_000 - (Math.floor(i / 2) % 20_000) : 6_000_000 + (Math.floor(i / 2) % 20_000), 10, t0 + i, `a${i % 5000}`, 10);
  const bookBytes = heapNow() - b0;
  if (book.orderCount !== n) throw new Error('bare book lost orders');
  book = null;
  const before = heapNow();
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
  const engineBytes = heapNow() - before;
  const resting = e.stats().restingOrders;
  await e.finish();
  return { engineBytes, bookBytes, resting };
}

export const surveillanceSection = {
  id: 'surveillance',
  title: 'Surveillance engine: throughput, latency and memory with every detector on',
  async run() {
    const events = [];
    simulate({ seed: 42, duration: '20m' }, (e) => events.push(e));
    const lines = events.map((e) => JSON.stringify(e));
    const n = events.length;
    const dispatchMs = await bestCpu(bareDispatch(events), 5);
    const memMs = await bestCpu(() => runEngine(events), 3);
    let parsed = 0; // consumed below so the loop is not optimised away
    const parseMs = await bestCpu(() => {
      for (const l of lines) parsed += JSON.parse(l).ts > 0 ? 1 : 0;
    }, 5);
    let decoded = 0;
    const decodeMs = await bestCpu(() => decodeInto(lines, () => decoded++), 3);
    const ndMs = await bestCpu(() => runNdjson(lines), 3);
    if (parsed === 0 || decoded === 0) throw new Error('baseline parsed nothing');
    // Per-event latency: the processing of each event as the engine's partition runtime does it
    // (watermark tick work such as episode closing and periodic scans included, charged to the event
    // that crossed the tick), in the order the watermark releases events. Timing onEvent instead would
    // show most events as free (they wait in the reorder buffer) and a few as paying for a batch.
    const released = releaseOrder(events);
    const rt = new PartitionRuntime(parseConfig({}), BUILTIN_DETECTORS, () => {});
    const lat = new Float64Array(released.length);
    for (let i = 0; i < released.length; i++) {
      const ev = released[i];
      const t = process.hrtime.bigint();
      rt.advance(ev.ts);
      rt.process(ev, false);
      lat[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
    rt.end(released[released.length - 1].ts);
    const perDetector = await detectorCosts(events);
    const plainChild = childRun('memory');
    const ndChild = childRun('ndjson');
    const semiChild = childRun('memory', ['--max-semi-space-size=64']);
    if (plainChild.n !== n || semiChild.n !== n || ndChild.n !== n) throw new Error('child processes simulated different events');
    const sorted = Array.from(lat).sort((a, b) => a - b);
    alive = []; // the kept engines are not part of the resting-orders heap
    const mem = await restingOrdersMemory(1_000_000);
    const perSec = (ms) => (n / ms) * 1000;
    const pct = (x) => `${(x * 100).toFixed(0)}%`;
    const mb = (b) => fmt(b / 2 ** 20, 1);
    const us = (ms) => ((ms * 1000) / n).toFixed(2);
    return [
      `Input: ${fmt(n)} events of a simulated exchange (seed 42, 20 minutes, abuse on), every built-in detector with its default config, one thread. Speeds are events per CPU-second of the process (\`process.cpuUsage\`, user + system, GC threads included), best of 3 runs after a warm-up; the baselines run on the same events in the same process. The first two rows run in fresh Node processes that hold only the events (or their NDJSON lines), as a deployment does, after two warm-up runs and with the engines of earlier runs kept alive (once an engine is collected, V8 drops the hidden classes the optimised code relied on and the next run re-optimises on the way; a deployment keeps one engine for hours); the in-process rows run after the rest of this bench (other engine configurations, the NDJSON lines, earlier sections) and carry its heap and JIT state. Latency is the time to process each event (\`PartitionRuntime.advance\` + \`process\`, i.e. watermark-tick work such as periodic scans and episode closing charged to the event that crosses the tick), in the order the watermark releases events, with \`process.hrtime\` (its reads add ~0.1 µs).`,
      '',
      table(
        ['figure', 'value', 'baseline in the same run', 'ratio'],
        [
          ['events/s, in-memory canonical events, fresh process (a deployment: one configuration, nothing else in the heap)', fmt(perSec(plainChild.ms)), `bare dispatch loop (one call per event by type), same process: ${fmt(perSec(plainChild.base))}/s`, `${(perSec(plainChild.ms) / 1e6).toFixed(2)}× the 1,000,000/s target`],
          ['events/s, from NDJSON (decode + validate + engine), fresh process', fmt(perSec(ndChild.ms)), `bare JSON.parse loop, same process: ${fmt(perSec(ndChild.base))}/s`, `${pct(ndChild.base / ndChild.ms)} of JSON.parse speed; ${(perSec(ndChild.ms) / 3e5).toFixed(2)}× the 300,000/s target`],
          ['events/s, in-memory canonical events, in this bench process', fmt(perSec(memMs)), `bare dispatch loop: ${fmt(perSec(dispatchMs))}/s`, `${pct(dispatchMs / memMs)} of bare dispatch; ${(perSec(memMs) / 1e6).toFixed(2)}× the 1,000,000/s target`],
          ['events/s, NDJSON decode + validate only, in this bench process', fmt(perSec(decodeMs)), `bare JSON.parse loop: ${fmt(perSec(parseMs))}/s`, `${pct(parseMs / decodeMs)} of JSON.parse speed`],
          ['events/s, from NDJSON (decode + validate + engine), in this bench process', fmt(perSec(ndMs)), `bare JSON.parse loop: ${fmt(perSec(parseMs))}/s`, `${pct(parseMs / ndMs)} of JSON.parse speed; ${(perSec(ndMs) / 3e5).toFixed(2)}× the 300,000/s target`],
          ['latency per event p50 (µs), processing in the partition runtime', percentile(sorted, 50).toFixed(2), '', ''],
          ['latency per event mean (µs)', (sorted.reduce((a, b) => a + b, 0) / sorted.length).toFixed(2), '', ''],
          ['latency per event p99 (µs)', percentile(sorted, 99).toFixed(2), '', `${(percentile(sorted, 99) / 1000).toFixed(3)}× the 1 ms target`],
          ['latency per event p99.9 (µs)', percentile(sorted, 99.9).toFixed(2), '', ''],
          ['latency per event max (µs)', sorted[sorted.length - 1].toFixed(0), '', 'includes GC pauses'],
          ['events/s, in-memory, fresh process with `--max-semi-space-size=64`', fmt(perSec(semiChild.ms)), `the same without the flag: ${fmt(perSec(plainChild.ms))}/s`, `${(plainChild.ms / semiChild.ms).toFixed(2)}× (less young-generation GC)`],
          [`heap for 1,000,000 resting orders, engine (MB, typed arrays included)`, mb(mem.engineBytes), `bare L3Book: ${mb(mem.bookBytes)} MB`, `${(mem.engineBytes / mem.bookBytes).toFixed(2)}× the bare book; ${(mem.engineBytes / 2 ** 20 / 300).toFixed(2)}× the 300 MB budget`],
        ],
      ),
      '',
      `The resting-orders run places 1,000,000 limit orders of 5,000 accounts on 20,000 price levels per side (none trade; ${fmt(mem.resting)} rest when the heap is measured, the other ${fmt(1_000_000 - mem.resting)} still wait in the watermark's reorder buffer), through the whole engine with every detector; detectors keep state of their own per account and per order (e.g. quote stuffing remembers placement times for cancel latencies). The bare book holds the same orders with their accounts and total sizes.`,
      '',
      `Cost of each detector: the engine with that detector alone minus the engine with none (books, order flow, links, watermark, alert emitter), CPU time per event, best of 3 runs each after a warm-up (each configuration's engines kept alive between its runs), same events in the same run. Detectors share state and caches, so the added costs need not sum exactly to the every-detector row; under heavy load (see the stamp) differences below about 1 µs per event are noise, and a negative one only means the run without the detector was the more disturbed.`,
      '',
      table(
        ['configuration', 'CPU µs per event', 'events/s', 'added by the detector (µs/event)'],
        [
          ['engine, no detector', us(perDetector.none), fmt(perSec(perDetector.none)), ''],
          ...perDetector.rows
            .sort((a, b) => b.ms - a.ms)
            .map((r) => [`engine + ${r.name}`, us(r.ms), fmt(perSec(r.ms)), ((r.ms - perDetector.none) * 1000 / n).toFixed(2)]),
          ['engine, every detector', us(memMs), fmt(perSec(memMs)), `${((memMs - perDetector.none) * 1000 / n).toFixed(2)} (all together)`],
        ],
      ),
    ].join('\n');
  },
};
