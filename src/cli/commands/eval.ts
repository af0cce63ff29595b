import { Command } from 'commander';
import { evaluate, formatEvalTable, readAlertsFile, readLabelsFile } from '../../surveillance/eval.js';

export function evalCommand(): Command {
  return new Command('eval')
    .description('Score alerts against labelled abuse episodes: precision, recall, F1 and median detection delay per typology')
    .requiredOption('--alerts <file>', 'alerts NDJSON (as written by replay --alerts; transitions are reduced to each alert’s final state)')
    .requiredOption('--labels <file>', 'labelled episodes, NDJSON (e.g. the simulator’s labels.ndjson) or a JSON array')
    .option('--tolerance <ms>', 'time slack when matching an alert’s window to a label’s', (v) => parseInt(v, 10), 60_000)
    .option('--json', 'print the report as JSON')
    .action(async (o: { alerts: string; labels: string; tolerance: number; json?: boolean }) => {
      const [alerts, labels] = await Promise.all([readAlertsFile(o.alerts), readLabelsFile(o.labels)]);
      const report = evaluate(alerts, labels, { toleranceMs: o.tolerance });
      process.stdout.write((o.json ? JSON.stringify(report, null, 2) : formatEvalTable(report)) + '\n');
    });
}
