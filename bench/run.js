#!/usr/bin/env node
// `npm run bench`: runs every benchmark in one process and writes BENCHMARKS.md.
// Every figure is given next to a baseline measured in the same run, because machines here are noisy.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { sections } from './sections.js';

const only = process.argv.slice(2);
const out = [];
const started = new Date();
out.push('# Benchmarks', '');
out.push(only.length
  ? `Produced by \`node --expose-gc bench/run.js ${only.join(' ')}\` (sections ${only.join(', ')} only), in one process; \`npm run bench\` runs every section.`
  : 'Produced by `npm run bench` (`node --expose-gc bench/run.js`), all sections in one process.');
out.push(`Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${started.toISOString().slice(0, 10)}.`);
out.push('Absolute figures vary with the machine; the ratios against the baseline measured in the same run are the comparable figures.', '');

for (const s of sections) {
  if (only.length && !only.some((o) => s.id.includes(o))) continue;
  process.stderr.write(`bench: ${s.title}\n`);
  try {
    const md = await s.run();
    out.push(`## ${s.title}`, '', md.trim(), '');
  } catch (err) {
    out.push(`## ${s.title}`, '', `Failed: ${err?.stack ?? err}`, '');
    process.exitCode = 1;
  }
}
const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
writeFileSync(file, out.join('\n'));
process.stderr.write(`bench: wrote ${file}\n`);
