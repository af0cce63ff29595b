import { Command } from 'commander';
import { evaluateRuns, formatEvalTable, readAlertsFile, readLabelsFile } from '../../surveillance/eval.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export function evalCommand(): Command {
  return new Command('eval')
    .description('Score alerts against labelled abuse episodes: precision, recall, F1 and median detection delay per typology')
    .requiredOption('--alerts <file>', 'alerts NDJSON (as written by replay --alerts; transitions are reduced to each alert’s final state); repeat with --labels to pool several runs', collect, [])
    .requiredOption('--labels <file>', 'labelled episodes, NDJSON (e.g. the simulator’s labels.ndjson) or a JSON array; the Nth --labels goes with the Nth --alerts', collect, [])
    .option('--tolerance <ms>', 'time slack when matching an alert’s window to a label’s', (v) => parseInt(v, 10), 60_000)
    .option('--json', 'print the report as JSON')
    .action(async (o: { alerts: string[]; labels: string[]; tolerance: number; json?: boolean }) => {
      if (o.alerts.length !== o.labels.length) throw new Error(`--alerts and --labels pair up run by run: got ${o.alerts.length} --alerts and ${o.labels.length} --labels`);
      const runs = await Promise.all(o.alerts.map(async (a, i) => ({ alerts: await readAlertsFile(a), labels: await readLabelsFile(o.labels[i]) })));
      const report = evaluateRuns(runs, { toleranceMs: o.tolerance });
      process.stdout.write((o.json ? JSON.stringify(report, null, 2) : formatEvalTable(report)) + '\n');
    });
}
