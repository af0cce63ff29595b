import { stat } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { replay, type InputSpec } from '../../pipeline/replay.js';
import { SummaryCounter, formatSummary } from '../../pipeline/summary.js';
import { DeadLetterSink, EventSink } from '../../sinks/dead-letter-sink.js';
import type { Operator } from '../../pipeline/types.js';
import { FORMATS } from '../../sources/registry.js';
import { progressBar } from '../progress.js';
import { csvOptionsFrom, addCsvOptions } from './csv-options.js';
import { createSurveillance, formatSurveillanceSummary, surveillanceSummary } from '../../surveillance/run.js';

export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('Stream event files (plain or .gz; "-" for stdin) through riskloop and summarise what was accepted and rejected')
    .argument('<files...>', 'input files, or - for stdin; several files are merged by event time (ties: command-line order)')
    .addOption(new Option('-f, --format <format>', 'input format').choices(['auto', ...FORMATS()]).default('auto'))
    .option('--market <symbol>', 'market symbol for formats that carry none (lobster, csv)')
    .option('--dead-letters <file>', 'write rejected records with reason and position as NDJSON')
    .option('--out <file>', 'write accepted events as canonical NDJSON (.gz compresses; - for stdout)')
    .option('--dedupe-window <n>', 'drop events whose id repeats within the last N ids (0 disables)', (v) => parseInt(v, 10), 1_000_000)
    .option('--alerts <file>', 'write surveillance alert transitions (open/updated/closed) as NDJSON (.gz compresses)')
    .option('--config <file>', 'surveillance config (JSON with comments; see docs/surveillance.md)')
    .option('--workers <n>', 'partition markets across N worker threads (alerts are identical to one worker)', (v) => parseInt(v, 10), 1)
    .option('--no-surveillance', 'do not run the surveillance engine')
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'no progress bar');
  addCsvOptions(cmd);
  cmd.action(async (files: string[], o) => {
    const counter = new SummaryCounter();
    const operators: Operator[] = [counter];
    // The engine goes before the sinks so its late-event dead letters reach them before they close.
    const surveillance = o.surveillance
      ? await createSurveillance({ configPath: o.config, alertsPath: o.alerts, workers: o.workers, onDeadLetter: (d) => operators.forEach((op) => op !== surveillance?.engine && op.onDeadLetter?.(d)) })
      : undefined;
    if (surveillance) operators.push(surveillance.engine);
    if (o.deadLetters) operators.push(new DeadLetterSink(o.deadLetters));
    if (o.out) operators.push(new EventSink(o.out));
    let total = 0;
    for (const f of files) if (f !== '-') total += (await stat(f)).size;
    const bar = progressBar(total, 'replay', { quiet: o.quiet || o.out === '-', unit: 'bytes' });
    let done = 0;
    const inputs: InputSpec[] = files.map((path) => ({ path, format: o.format, options: { market: o.market, ...csvOptionsFrom(o) } }));
    await replay(inputs, {
      operators,
      dedupeWindow: o.dedupeWindow,
      onProgress: (p) => {
        done = p.bytes;
        bar.update(Math.min(done, total), { detail: `${p.events} events, ${p.deadLetters} dead letters` });
      },
    });
    bar.stop();
    const s = counter.summary();
    const sv = surveillance ? surveillanceSummary(surveillance) : undefined;
    const text = o.json ? JSON.stringify(sv ? { ...s, surveillance: sv } : s, null, 2) : formatSummary(s) + (sv ? `\n\n${formatSurveillanceSummary(sv)}` : '');
    (o.out === '-' ? process.stderr : process.stdout).write(text + '\n');
  });
  return cmd;
}
