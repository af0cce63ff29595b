import { formatSummary, formatTable } from '../pipeline/summary.js';
import type { DemoReport } from './run.js';

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

/** The demo's report for a terminal. */
export function formatDemoReport(r: DemoReport): string {
  const out: string[] = [];
  out.push(`riskloop demo — seed ${r.seed}, ${r.duration} of exchange time (${iso(r.startTime)} .. ${iso(r.endTime)}), ${r.events.toLocaleString('en-US')} events`);
  out.push('', '## Events by type and market', '', formatSummary(r.summary));
  out.push('', '## Injected abuse (ground truth)', '');
  const rows = Object.entries(r.episodesByTypology).map(([t, n]) => {
    const eps = r.episodes.filter((e) => e.typology === t);
    const variants = [...new Set(eps.map((e) => e.variant).filter(Boolean))].join(', ');
    const markets = [...new Set(eps.flatMap((e) => e.markets))].sort().join(' ');
    const first = eps[0];
    return [t, n, variants || '-', markets || '-', first ? `${first.accounts.slice(0, 3).join(' ')}${first.accounts.length > 3 ? ` +${first.accounts.length - 3}` : ''} @ ${iso(first.startTime).slice(11)}` : '-'];
  });
  out.push(formatTable(['typology', 'episodes', 'variants', 'markets', 'first episode: accounts @ time'], rows));
  out.push('', '## Dead letters', '');
  out.push(`${r.deadLetters.length} record(s) rejected, of ${r.injectedFaults} corrupted on purpose by the demo to exercise the dead-letter path.`);
  for (const d of r.deadLetters.slice(0, 5)) out.push(`  ${d.source}:${d.line}  ${d.reason}`);
  if (r.deadLetters.length > 5) out.push(`  … ${r.deadLetters.length - 5} more`);
  for (const s of r.sections) out.push('', `## ${s.title}`, '', s.text);
  return out.join('\n');
}
