import type { Alert, AlertSink } from '../surveillance/alert.js';
import { finalAlerts } from '../surveillance/alert.js';
import { evaluate, formatEvalTable } from '../surveillance/eval.js';
import { AlertCollector, createSurveillance, formatSurveillanceSummary, surveillanceSummary } from '../surveillance/run.js';
import type { DemoStage } from './run.js';
import { scoringStage } from './scoring-stage.js';
import { graphStage } from './graph-stage.js';
import { policyStage } from './policy-stage.js';

export interface StageOptions {
  /** Where live lines go (alerts as they fire, score changes); undefined keeps quiet. */
  live?: (line: string) => void;
  /** At most this many live alert lines; the rest are counted. */
  liveLimit?: number;
}

const clock = (t: number) => new Date(t).toISOString().slice(11, 19) + 'Z';

/** One line per alert as it opens: when, how bad, what, where, who, why. */
export function liveAlertLine(a: Alert): string {
  const who = a.accounts.length ? ` ${a.accounts.slice(0, 4).join(',')}${a.accounts.length > 4 ? `+${a.accounts.length - 4}` : ''}` : '';
  return `[${clock(a.detectedAt)}] ALERT ${a.severity.padEnd(8)} ${a.typology} ${a.markets.join(',')}${who} — ${a.explanation}`;
}

/** Trade surveillance: every detector, live alerts as they fire, then the eval table against the ground truth. */
async function surveillanceStage(opts: StageOptions, alertSinks: AlertSink[] = []): Promise<DemoStage> {
  const collector = new AlertCollector();
  const limit = opts.liveLimit ?? 60;
  let shown = 0;
  const live = opts.live;
  const run = await createSurveillance({
    sinks: [
      collector,
      ...alertSinks,
      {
        onAlert(a: Alert) {
          if (!live || a.status !== 'open') return;
          if (shown < limit) live(liveAlertLine(a));
          else if (shown === limit) live(`… further alerts are counted in the summary`);
          shown++;
        },
      },
    ],
  });
  return {
    name: 'surveillance',
    operator: run.engine,
    report({ labels }) {
      const report = evaluate(collector.transitions, labels);
      const summary = surveillanceSummary(run);
      return {
        title: 'Trade surveillance: alerts and evaluation against the injected abuse',
        text: `${formatSurveillanceSummary(summary)}\n\n${formatEvalTable(report)}`,
        json: { summary, eval: report, alerts: finalAlerts(collector.transitions).length },
      };
    },
  };
}

/** Every capability riskloop has plugs into the demo here. */
export async function demoStages(opts: StageOptions = {}): Promise<DemoStage[]> {
  // Scoring takes the surveillance alerts as features of the accounts they name.
  const scoring = await scoringStage(opts);
  return [await surveillanceStage(opts, [scoring.alerts]), graphStage(), scoring, policyStage({ live: opts.live })];
}
