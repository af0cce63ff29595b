import { Command } from 'commander';
import { runDemo } from '../../demo/run.js';
import { formatDemoReport } from '../../demo/format.js';
import { demoStages } from '../../demo/stages.js';
import { progressBar } from '../progress.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('Simulate an exchange with injected abuse and stream it through everything riskloop has; print what it found')
    .option('--seed <n>', 'simulation seed', (v) => parseInt(v, 10), 20261125)
    .option('--duration <d>', 'exchange time to simulate, e.g. 30m, 2h', '1h')
    .option('--fault-rate <p>', 'share of records corrupted to show the dead-letter path (0 disables)', parseFloat, 1 / 25_000)
    .option('--json', 'print the report as JSON')
    .option('-q, --quiet', 'no progress bar or live output')
    .action(async (o) => {
      const live = !o.quiet && !o.json;
      const stages = await demoStages({ live: live ? (line) => process.stdout.write(line + '\n') : undefined });
      let bar: ReturnType<typeof progressBar> | undefined;
      const report = await runDemo({
        seed: o.seed,
        duration: o.duration,
        faultRate: o.faultRate,
        stages,
        onProgress: (now, start, end, events) => {
          bar ??= progressBar(end - start, 'demo', { quiet: o.quiet || o.json, unit: 'ms of exchange time' });
          bar.update(now - start, { detail: `${events.toLocaleString('en-US')} events` });
        },
      });
      bar?.stop();
      if (o.json) {
        const { episodes: _e, ...rest } = report;
        process.stdout.write(JSON.stringify(rest, null, 2) + '\n');
      } else process.stdout.write(formatDemoReport(report) + '\n');
    });
}
