#!/usr/bin/env node
// `npm run bench`: runs every benchmark in one process and writes BENCHMARKS.md.
// Every figure is given next to a baseline measured in the same run, because machines here are noisy.
// `node --expose-gc bench/run.js <section…>` reruns only those sections and keeps the others' last figures,
// each section naming the command and date that produced it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { sections } from './sections.js';

const only = process.argv.slice(2);
const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
// BENCH_OUT writes elsewhere (e.g. a scratch file), so parallel partial runs do not overwrite each other.
const outFile = process.env.BENCH_OUT ?? file;
const started = new Date();
const command = only.length ? `node --expose-gc bench/run.js ${only.join(' ')}` : 'npm run bench';
const machine = `Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;

/** The sections already in BENCHMARKS.md, by title, so a partial run keeps the rest. */
function previousSections() {
  const kept = new Map();
  if (!existsSync(file)) return kept;
  const parts = readFileSync(file, 'utf8').split(/^## /m).slice(1);
  for (const p of parts) {
    const nl = p.indexOf('\n');
    kept.set(p.slice(0, nl).trim(), p.slice(nl + 1).trim());
  }
  return kept;
}

const previous = previousSections();
const body = [];
for (const s of sections) {
  const selected = !only.length || only.some((o) => s.id.includes(o));
  if (!selected) {
    const old = previous.get(s.title);
    if (old) body.push(`## ${s.title}`, '', old, '');
    continue;
  }
  process.stderr.write(`bench: ${s.title}\n`);
  const load = os.loadavg()[0].toFixed(1);
  let md;
  try {
    md = (await s.run()).trim();
  } catch (err) {
    md = `Failed: ${err?.stack ?? err}`;
    process.exitCode = 1;
  }
  const stamp = `_Produced by \`${command}\` on ${started.toISOString().slice(0, 10)}; ${machine}; load average ${load} at the start._`;
  body.push(`## ${s.title}`, '', stamp, '', md, '');
}
const out = [
  '# Benchmarks',
  '',
  '`npm run bench` runs every section in one process; `node --expose-gc bench/run.js <section…>` reruns some and keeps the rest. Each section names the command, date, machine and load that produced it.',
  'Absolute figures vary with the machine; the ratios against the baseline or peer measured in the same run are the comparable figures.',
  '',
  ...body,
];
writeFileSync(outFile, out.join('\n'));
process.stderr.write(`bench: wrote ${outFile}\n`);
