import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { TYPOLOGIES } from '../../events/labels.js';
import { SummaryCounter, formatSummary, formatTable } from '../../pipeline/summary.js';
import { SimConfigFile, parseDuration, type SimConfigInput } from '../../sim/config.js';
import { writeSimulation } from '../../sim/output.js';
import { progressBar } from '../progress.js';

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('Simulate an exchange (matching engine, trader population, injected abuse) and write events, ground-truth labels and a manifest')
    .requiredOption('--out <dir>', 'output directory: events.ndjson[.gz], labels.ndjson, manifest.json')
    .option('--seed <n>', 'random seed: the same seed and config give byte-identical output', (v) => parseSeed(v))
    .option('--duration <d>', 'event time to simulate, e.g. 30m, 2h, 1d, 1h30m (default 2h)')
    .option('--start <time>', 'event time of the start (ISO-8601 or epoch ms); default derived from the seed')
    .option('--config <file>', 'JSON config: population sizes, traffic scale, per-typology intensity and params (see docs/simulator.md)')
    .option('--intensity <x>', 'global abuse intensity multiplier (0 turns abuse off)', (v) => parseNonNegative(v))
    .option('--no-abuse', 'plain market traffic only')
    .option('--traffic <x>', 'multiplier of order-flow rates', (v) => parsePositive(v))
    .option('--gzip', 'write events.ndjson.gz')
    .option('--json', 'print the summary as JSON')
    .addOption(new Option('-q, --quiet', 'no progress bar'))
    .addHelpText(
      'after',
      `
Typologies: ${TYPOLOGIES.join(', ')}.
Example:
  riskloop simulate --seed 7 --duration 2h --out runs/seed7 --gzip
  riskloop simulate --seed 7 --duration 30m --out runs/quiet --no-abuse
  riskloop simulate --seed 7 --duration 1h --out runs/x --config sim.json   # {"abuse":{"typologies":{"spoofing":{"intensity":3}}}}`,
    )
    .action(async (o) => {
      const input: SimConfigInput = o.config ? SimConfigFile.parse(JSON.parse(await readFile(o.config, 'utf8'))) : {};
      if (o.seed !== undefined) input.seed = o.seed;
      if (o.duration !== undefined) input.duration = o.duration;
      if (o.start !== undefined) input.startTime = /^\d+$/.test(o.start) ? Number(o.start) : o.start;
      if (o.traffic !== undefined) input.trafficScale = o.traffic;
      if (input.duration === undefined) input.duration = '2h';
      parseDuration(input.duration);
      input.abuse = { ...input.abuse };
      if (o.intensity !== undefined) input.abuse.intensity = o.intensity;
      if (o.abuse === false) input.abuse.enabled = false;

      const counter = new SummaryCounter();
      let bar: ReturnType<typeof progressBar> | undefined;
      const { result, files } = await writeSimulation(input, o.out, {
        gzip: o.gzip === true,
        onEvent: (e) => counter.onEvent(e),
        onProgress: (now, sim) => {
          const total = Math.round((sim.endTime - sim.startTime) / 1000);
          bar ??= progressBar(total, 'simulate', { quiet: o.quiet, unit: 's event time' });
          bar.update(Math.round((now - sim.startTime) / 1000), { detail: `${sim.ctx.out.seq} events, ${new Date(now).toISOString().slice(0, 19)}Z` });
        },
      });
      bar?.stop();
      const summary = counter.summary();
      if (o.json) {
        process.stdout.write(
          JSON.stringify({ files, seed: result.seed, startTime: result.startTime, endTime: result.endTime, events: result.events, summary, episodesByTypology: result.episodesByTypology }, null, 2) + '\n',
        );
        return;
      }
      const episodes = formatTable(
        ['typology', 'episodes', 'variants'],
        TYPOLOGIES.map((t) => {
          const vs = new Map<string, number>();
          for (const e of result.episodes) if (e.typology === t) vs.set(e.variant ?? '-', (vs.get(e.variant ?? '-') ?? 0) + 1);
          return [t, result.episodesByTypology[t] ?? 0, [...vs].map(([v, n]) => `${v} ${n}`).join(', ')];
        }),
      );
      process.stdout.write(
        [
          `wrote ${files.events}, ${files.labels}, ${files.manifest}`,
          `seed ${result.seed}, ${result.events} events, ${result.episodes.length} labelled episodes`,
          '',
          formatSummary(summary),
          '',
          episodes,
          '',
        ].join('\n'),
      );
    });
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--seed must be a non-negative integer, got ${v}`);
  return n;
}

function parseNonNegative(v: string): number {
  const n = Number(v);
  if (!(n >= 0)) throw new Error(`expected a number >= 0, got ${v}`);
  return n;
}

function parsePositive(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`expected a number > 0, got ${v}`);
  return n;
}
