import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createDecoder } from '../dist/sources/registry.js';
import { bestCpu as best, fmt, table } from './util.js';


const DATA = fileURLToPath(new URL('../../shared/data/market/', import.meta.url));

function lines(path) {
  const buf = readFileSync(path);
  const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
  return text.split('\n').filter((l) => l.length > 0);
}

/** Decodes every line with the format's decoder; the baseline JSON.parses the same lines. */
async function measure(format, input, jsonOf) {
  const sink = { events: 0, dead: 0, event() { this.events++; }, reject() { this.dead++; } };
  let decoded = 0;
  const ms = await best(() => {
    const d = createDecoder(format, { source: 'bench' });
    sink.events = sink.dead = 0;
    const pos = { source: 'bench', line: 0 };
    for (let i = 0; i < input.length; i++) {
      pos.line = i + 1;
      d.decode(input[i], pos, sink);
    }
    decoded = sink.events;
  });
  let keep = 0;
  const baseMs = await best(() => {
    for (let i = 0; i < input.length; i++) keep += jsonOf(input[i]) ? 1 : 0;
  });
  return { format, lines: input.length, events: decoded, dead: sink.dead, ms, baseMs, parsed: keep };
}

export const decodeSection = {
  id: 'decode',
  title: 'Decoding: lines per second against a bare JSON.parse loop',
  async run() {
    const rows = [];
    const spot = lines(`${DATA}binance-spot-btcusdt-20240808.ndjson.gz`);
    const usdm = lines(`${DATA}binance-usdm-btcusdt-20240808.ndjson.gz`);
    const jsonAfterSpace = (l) => JSON.parse(l.slice(l.indexOf(' ') + 1));
    const results = [];
    try {
      results.push(await measure('binance', spot, jsonAfterSpace));
      results.push(await measure('binance', usdm, jsonAfterSpace));
    } catch (err) {
      rows.push(['binance', 'n/a', String(err.message), '', '', '']);
    }
    // Canonical NDJSON: re-encode the decoded futures events, then decode them again.
    const canon = [];
    const d = createDecoder('binance', { source: 'bench' });
    const pos = { source: 'bench', line: 0 };
    for (const l of usdm) d.decode(l, pos, { event: (e) => canon.push(JSON.stringify(e)), reject() {} });
    if (canon.length) results.push(await measure('ndjson', canon, (l) => JSON.parse(l)));
    for (const r of results) {
      const lps = (r.lines / r.ms) * 1000;
      const base = (r.lines / r.baseMs) * 1000;
      rows.push([r.format, fmt(r.lines), fmt(r.events), fmt(lps), fmt(base), `${((r.baseMs / r.ms) * 100).toFixed(0)}%`]);
    }
    return [
      'Input: the real captures in `../shared/data/market` (Binance spot and USDⓈ-M BTCUSDT), decoded in memory; `ndjson` decodes the canonical re-encoding of the USDⓈ-M events (schema-validated). Lines per CPU-second of the process (`process.cpuUsage`), best of 5 runs after a warm-up.',
      '',
      table(['format', 'lines', 'events', 'lines/s', 'JSON.parse lines/s', 'share of JSON.parse speed'], rows),
    ].join('\n');
  },
};
