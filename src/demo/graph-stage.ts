import type { LabelEpisode } from '../events/labels.js';
import { collusiveRings, type CollusiveRing } from '../graph/algorithms/collusive-rings.js';
import { riskPropagation } from '../graph/algorithms/risk-propagation.js';
import { sybilFarms, type SybilFarm } from '../graph/algorithms/sybil-farms.js';
import { EntityGraphBuilder, keyId, summarizeEntityGraph } from '../graph/entity-graph.js';
import { GraphLinks } from '../graph/links.js';
import { formatTable } from '../pipeline/summary.js';
import type { DemoStage } from './run.js';

/**
 * Graph intelligence in the demo: the entity graph built incrementally from every simulated event,
 * then the collusive rings and sybil/fake-traffic farms it holds, each set against the injected ground
 * truth (labels wash_trading collusive_* and fake_traffic), and the accounts risk propagates to from them.
 */
export interface GraphStageOptions {
  /** Ring window, ms of event time. Default 10 minutes (as the wash-trading detector). */
  ringWindowMs?: number;
  /** Accounts listed under risk propagation. Default 10. */
  top?: number;
}

const clock = (t: number) => new Date(t).toISOString().slice(11, 19) + 'Z';
const short = (xs: readonly string[], n = 6) => `${xs.slice(0, n).join(' ')}${xs.length > n ? ` +${xs.length - n}` : ''}`;

interface Match<T> {
  found: T;
  members: string[];
  label: LabelEpisode | null;
}

/** The label a ring or farm belongs to: the one sharing the most accounts (at least two, or its only one), overlapping in time. */
function bestLabel(members: readonly string[], from: number, to: number, labels: readonly LabelEpisode[], market?: string | null): LabelEpisode | null {
  let best: LabelEpisode | null = null;
  let bestOverlap = 0;
  for (const l of labels) {
    if (market && !l.markets.includes(market)) continue;
    if (l.endTime + 60_000 < from || l.startTime - 60_000 > to) continue;
    const overlap = members.filter((m) => l.accounts.includes(m)).length;
    if (overlap >= Math.min(2, l.accounts.length) && overlap > bestOverlap) {
      best = l;
      bestOverlap = overlap;
    }
  }
  return best;
}

export function graphStage(opts: GraphStageOptions = {}): DemoStage {
  const builder = new EntityGraphBuilder({ adjacency: true });
  const links = new GraphLinks({ builder });
  const tied = (a: string, b: string) => {
    const x = keyId(a);
    const y = keyId(b);
    return links.areLinked(x, y) || (links.evidence(x, y)?.weight ?? 0) > 0;
  };
  return {
    name: 'graph',
    operator: builder,
    report({ labels }) {
      const graph = builder.graph;
      const summary = summarizeEntityGraph(graph);
      // Rings most of whose members opened their accounts within a day are sybil farms churning volume: shown as farms (as the wash detector leaves them to fake_traffic).
      const young = (key: string, at: number) => {
        const opened = graph.getNodeAttribute(key, 'openedAt');
        return opened !== undefined && at - opened <= 86_400_000;
      };
      const allRings = collusiveRings(graph, {
        windowMs: opts.ringWindowMs ?? 600_000,
        minTrades: 4,
        minPairTrades: 2,
        minPairShare: 0.2,
        minConcentration: 0.85,
        maxMembers: 8,
        tolerance: 0.3,
        unlinkedTolerance: 0.01,
        tied,
      });
      const rings = allRings.filter((r) => r.members.filter((m) => young(m.account, r.lastTrade)).length * 2 < r.members.length);
      // Only accounts opened during the run are young: the simulated population predates it.
      const farms = sybilFarms(graph, { openedOnly: true });
      const washLabels = labels.filter((l) => l.typology === 'wash_trading' && l.variant !== 'self_trade');
      const farmLabels = labels.filter((l) => l.typology === 'fake_traffic');
      const ringMatches: Match<CollusiveRing>[] = rings.map((r) => {
        const members = r.members.map((m) => keyId(m.account));
        return { found: r, members, label: bestLabel(members, r.firstTrade, r.lastTrade, washLabels, r.market) };
      });
      const farmMatches: Match<SybilFarm>[] = farms.map((f) => {
        const members = f.members.map(keyId);
        return { found: f, members, label: bestLabel(members, f.openedFrom, Infinity, farmLabels) };
      });
      const recall = (ls: LabelEpisode[], ms: Match<unknown>[]) => ls.filter((l) => ms.some((m) => m.label === l)).length;

      // Risk propagation from everything found: who else sits close to the rings and farms?
      const seeds = [...new Set([...ringMatches, ...farmMatches].flatMap((m) => m.members.map((a) => `account:${a}`)))];
      const weight = (a: { count: number }) => 1 + Math.log(Math.max(1, a.count));
      const ppr = seeds.length ? riskPropagation(graph, seeds, { view: builder.csrView({ weight }), top: seeds.length + 50 }) : null;
      const seedSet = new Set(seeds);
      const top = (ppr?.ranking ?? []).filter((r) => r.node.startsWith('account:') && !seedSet.has(r.node)).slice(0, opts.top ?? 10);

      const lines: string[] = [];
      const e = summary.edges;
      lines.push(
        `entity graph: ${summary.nodes.account.toLocaleString('en-US')} accounts, ${summary.nodes.device} devices, ${summary.nodes.ip} IPs, ${summary.nodes.address} addresses; ` +
          `edges: ${e.uses_device} uses_device, ${e.uses_ip} uses_ip, ${e.deposits_from} deposits_from, ${e.withdraws_to} withdraws_to, ${e.transfers_to} transfers_to, ${e.trades_with} trades_with`,
      );
      lines.push('', `Collusive rings: ${rings.length} found; ${recall(washLabels, ringMatches)} of ${washLabels.length} injected collusive wash-trading episodes among them.`);
      if (ringMatches.length) {
        lines.push(
          formatTable(
            ['ring', 'market', 'kind', 'members', 'trades', 'worst net', 'span', 'ground truth'],
            ringMatches.map((m, i) => [
              i + 1,
              m.found.market ?? '-',
              m.found.kind === 'linked' ? 'tied, trading together' : m.found.linkedShare > 0 ? 'cycle, tied' : 'cycle',
              short(m.members),
              m.found.trades,
              `${(m.found.worstNetRatio * 100).toFixed(1)}%`,
              `${clock(m.found.firstTrade)}..${clock(m.found.lastTrade)}`,
              m.label ? `${m.label.typology} ${m.label.variant ?? ''} ${m.label.id}` : 'no label',
            ]),
          ),
        );
      }
      for (const l of washLabels.filter((l) => !ringMatches.some((m) => m.label === l))) lines.push(`  missed: ${l.id} ${l.variant ?? ''} ${l.markets.join(',')} ${short(l.accounts)} (${l.tradeIds.length} labelled trades)`);
      lines.push('', `Sybil / fake-traffic farms: ${farms.length} found; ${recall(farmLabels, farmMatches)} of ${farmLabels.length} injected fake-traffic episodes among them.`);
      if (farmMatches.length) {
        lines.push(
          formatTable(
            ['farm', 'size', 'members', 'shared identifiers', 'lockstep', 'ground truth'],
            farmMatches.map((m, i) => [
              i + 1,
              m.found.size,
              short(m.members, 5),
              m.found.identifiers.slice(0, 2).map((x) => `${x.node} ×${x.members}`).join(', '),
              `${(m.found.lockstep * 100).toFixed(0)}%`,
              m.label ? `${m.label.typology} ${m.label.variant ?? ''} ${m.label.id} (${m.members.filter((a) => m.label!.accounts.includes(a)).length}/${m.label.accounts.length} accounts)` : 'no label',
            ]),
          ),
        );
      }
      for (const l of farmLabels.filter((l) => !farmMatches.some((m) => m.label === l))) lines.push(`  missed: ${l.id} ${l.variant ?? ''} ${short(l.accounts)}`);
      lines.push('', `Risk propagation: personalised PageRank from the ${seeds.length} accounts in rings and farms; the accounts it reaches most:`);
      if (top.length) {
        lines.push(
          formatTable(
            ['account', 'score', 'lift', 'path to a ring or farm member'],
            top.map((r) => [keyId(r.node), r.score.toExponential(2), r.lift.toFixed(1), r.path.join(' → ')]),
          ),
        );
      } else lines.push('  (no seeds)');
      return {
        title: 'Graph intelligence: collusive rings, sybil farms and risk propagation',
        text: lines.join('\n'),
        json: {
          summary,
          rings: ringMatches.map((m) => ({ members: m.members, market: m.found.market, kind: m.found.kind, trades: m.found.trades, worstNetRatio: m.found.worstNetRatio, linkedShare: m.found.linkedShare, firstTrade: m.found.firstTrade, lastTrade: m.found.lastTrade, reason: m.found.reason, label: m.label?.id ?? null })),
          farms: farmMatches.map((m) => ({ members: m.members, identifiers: m.found.identifiers, lockstep: m.found.lockstep, reason: m.found.reason, label: m.label?.id ?? null })),
          groundTruth: {
            collusiveWash: { labels: washLabels.length, found: recall(washLabels, ringMatches), rings: rings.length, ringsMatchingALabel: ringMatches.filter((m) => m.label).length },
            fakeTraffic: { labels: farmLabels.length, found: recall(farmLabels, farmMatches), farms: farms.length, farmsMatchingALabel: farmMatches.filter((m) => m.label).length },
          },
          riskPropagation: top.map((r) => ({ account: keyId(r.node), score: r.score, lift: r.lift })),
        },
      };
    },
  };
}
