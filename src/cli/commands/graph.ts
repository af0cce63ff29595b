import { writeFile } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { replay, type InputSpec } from '../../pipeline/replay.js';
import { FORMATS } from '../../sources/registry.js';
import { progressBar } from '../progress.js';
import { EntityGraphBuilder, summarizeEntityGraph, accountKey, addressKey, keyId, type EntityGraph } from '../../graph/entity-graph.js';
import { linkedClusters } from '../../graph/algorithms/linked-clusters.js';
import { collusiveRings } from '../../graph/algorithms/collusive-rings.js';
import { sybilFarms } from '../../graph/algorithms/sybil-farms.js';
import { riskPropagation } from '../../graph/algorithms/risk-propagation.js';
import { accountFeatures } from '../../graph/algorithms/account-features.js';
import { scanAmlsim, explainAmlsimAccount } from '../../graph/amlsim.js';
import { AddressLabels } from '../../chain/labels.js';
import { loadTransfers, TransferGraph } from '../../chain/transfers.js';
import { traceExposure, TAINT_MODELS, type TaintModel, type Direction } from '../../chain/exposure.js';
import { ScreeningIndex } from '../../chain/screening.js';
import { clusterByCommonInput } from '../../chain/utxo-clustering.js';

/** "90s", "15m", "1h", "30d", "250ms" or plain milliseconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|min|h|d)?$/.exec(v.trim());
  if (!m) throw new Error(`not a duration: ${v} (e.g. 90s, 15m, 1h, 30d)`);
  const x = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const mult: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };
  return x * mult[unit];
}

const int = (v: string): number => parseInt(v, 10);
const num = (v: string): number => Number(v);
const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

async function buildGraph(files: string[], o: { format?: string; quiet?: boolean }): Promise<{ builder: EntityGraphBuilder; ms: number; events: number; deadLetters: number }> {
  const builder = new EntityGraphBuilder();
  let total = 0;
  for (const f of files) if (f !== '-') total += (await stat(f)).size;
  const bar = progressBar(total, 'graph', { quiet: o.quiet, unit: 'bytes' });
  const inputs: InputSpec[] = files.map((path) => ({ path, format: o.format ?? 'auto' }));
  const t0 = performance.now();
  const p = await replay(inputs, {
    operators: [builder],
    onProgress: (x) => bar.update(Math.min(x.bytes, total), { detail: `${x.events} events` }),
  });
  bar.stop();
  return { builder, ms: performance.now() - t0, events: p.events, deadLetters: p.deadLetters };
}

function print(o: { json?: boolean }, value: unknown, text: () => string): void {
  process.stdout.write((o.json ? JSON.stringify(value, null, 2) : text()) + '\n');
}

const short = (key: string): string => keyId(key);
const fmt = (x: number, d = 4): string => (Number.isInteger(x) ? String(x) : Number(x.toPrecision(d)).toString());
const iso = (t: number): string => (Number.isFinite(t) && t > 1e11 ? new Date(t).toISOString() : String(t));

function eventFilesCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .argument('<files...>', 'canonical event files (NDJSON, plain or .gz; - for stdin)')
    .addOption(new Option('-f, --format <format>', 'input format').choices(['auto', ...FORMATS()]).default('auto'))
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'no progress bar');
}

function buildCmd(): Command {
  return eventFilesCommand('build', 'Build the entity graph from event files and summarise it').action(async (files: string[], o) => {
    const { builder, ms, events, deadLetters } = await buildGraph(files, o);
    const g = builder.graph;
    const s = summarizeEntityGraph(g);
    const clusters = linkedClusters(g);
    const rings = collusiveRings(g);
    const farms = sybilFarms(g);
    const out = {
      events,
      deadLetters,
      edgeUpdates: builder.edgeUpdates,
      ms: Math.round(ms),
      edgeUpdatesPerSecond: Math.round((builder.edgeUpdates / ms) * 1000),
      ...s,
      linkedClusters: clusters.clusters.length,
      accountsInClusters: clusters.clusterOf.size,
      collusiveRings: rings.length,
      sybilFarms: farms.length,
    };
    print(o, out, () =>
      [
        `entity graph from ${events} events (${deadLetters} dead letters), ${builder.edgeUpdates} edge updates in ${out.ms} ms (${out.edgeUpdatesPerSecond}/s)`,
        `nodes: ${Object.entries(s.nodes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `edges: ${Object.entries(s.edges).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `event time: ${s.firstSeen === null ? '-' : iso(s.firstSeen)} .. ${s.lastSeen === null ? '-' : iso(s.lastSeen)}`,
        `linked clusters: ${out.linkedClusters} (${out.accountsInClusters} accounts); collusive rings: ${rings.length}; sybil farms: ${farms.length}`,
      ].join('\n'),
    );
  });
}

function clustersCmd(): Command {
  return eventFilesCommand('clusters', 'Linked-account clusters over shared identifiers, with Louvain communities inside large ones')
    .option('--threshold <w>', 'summed identifier weight that links two accounts', num, 0.6)
    .option('--max-share <n>', 'identifiers shared by this many accounts or more carry no weight', int, 500)
    .option('--min-size <n>', 'smallest cluster printed', int, 2)
    .option('--top <n>', 'clusters printed', int, 50)
    .option('--seed <n>', 'Louvain seed', int, 1)
    .action(async (files: string[], o) => {
      const { builder } = await buildGraph(files, o);
      const r = linkedClusters(builder.graph, { threshold: o.threshold, maxShare: o.maxShare, seed: o.seed });
      const list = r.clusters.filter((c) => c.size >= o.minSize).slice(0, o.top);
      print(o, list, () =>
        list.length === 0
          ? 'no linked clusters'
          : list
              .map((c) => {
                const lines = [`cluster ${c.id}: ${c.size} accounts, mean link ${fmt(c.strength)}: ${c.members.map(short).join(' ')}`];
                for (const i of c.identifiers.slice(0, 5)) lines.push(`  shares ${i.node} (${i.type}, used by ${i.sharedBy}, weight ${fmt(i.weight)})`);
                for (const l of c.links.slice(0, 5)) lines.push(`  ${short(l.a)} ~ ${short(l.b)} weight ${fmt(l.weight)} via ${l.via.map((v) => v.node).join(', ')}`);
                if (c.communities) for (const k of c.communities) lines.push(`  community ${c.id}.${k.id}: ${k.members.map(short).join(' ')}`);
                return lines.join('\n');
              })
              .join('\n'),
      );
    });
}

function ringsCmd(): Command {
  return eventFilesCommand('rings', 'Collusive trading rings: cycles in the counterparty flow per window whose members end flat')
    .option('--window <duration>', 'window length', '1h')
    .option('--tolerance <x>', 'largest |net| / max(bought, sold) per member', num, 0.05)
    .option('--min-trades <n>', 'fewest trades inside a ring', int, 3)
    .option('--top <n>', 'rings printed', int, 50)
    .action(async (files: string[], o) => {
      const { builder } = await buildGraph(files, o);
      const rings = collusiveRings(builder.graph, { windowMs: parseDuration(o.window), tolerance: o.tolerance, minTrades: o.minTrades }).slice(0, o.top);
      print(o, rings, () =>
        rings.length === 0
          ? 'no collusive rings'
          : rings
              .map((r) =>
                [
                  `ring ${r.id} ${r.market ?? ''} ${iso(r.start)} .. ${iso(r.end)} score ${fmt(r.score)}: ${r.members.map((m) => short(m.account)).join(' ')}`,
                  `  ${r.reason}`,
                  ...r.members.map((m) => `  ${short(m.account)} bought ${fmt(m.bought, 8)} sold ${fmt(m.sold, 8)} net ${fmt(m.net, 8)}`),
                ].join('\n'),
              )
              .join('\n'),
      );
    });
}

function farmsCmd(): Command {
  return eventFilesCommand('farms', 'Sybil and fake-traffic farms: young accounts sharing devices/IPs and acting in lockstep')
    .option('--max-age <duration>', 'young = opened within this of the latest event', '30d')
    .option('--tolerance <duration>', 'co-activity tolerance', '60s')
    .option('--min-lockstep <x>', 'co-activity that counts as lockstep', num, 0.5)
    .option('--min-size <n>', 'smallest farm', int, 3)
    .action(async (files: string[], o) => {
      const { builder } = await buildGraph(files, o);
      const farms = sybilFarms(builder.graph, { maxAgeMs: parseDuration(o.maxAge), toleranceMs: parseDuration(o.tolerance), minLockstep: o.minLockstep, minSize: o.minSize });
      print(o, farms, () => (farms.length === 0 ? 'no sybil farms' : farms.map((f) => `farm ${f.id} score ${fmt(f.score)}: ${f.members.map(short).join(' ')}\n  ${f.reason}`).join('\n')));
    });
}

async function chainContext(o: { labels?: string; tags?: string[]; transfers?: string[]; at?: number }): Promise<{ labels: AddressLabels; graph: TransferGraph; notes: string[] }> {
  const labels = new AddressLabels();
  const notes: string[] = [];
  if (o.labels) {
    const r = await labels.loadOfacDirectory(o.labels);
    notes.push(`labels: ${r.addresses} OFAC addresses from ${r.files} lists in ${o.labels}`);
  }
  for (const t of o.tags ?? []) {
    const r = await labels.loadTagFile(t);
    notes.push(`tags: ${t}: ${r.added} added, ${r.removed} removed, ${r.rejected.length} rejected lines`);
  }
  const graph = new TransferGraph();
  for (const f of o.transfers ?? []) {
    const r = await loadTransfers(f, graph);
    notes.push(`transfers: ${f}: ${r.report.transfers} transfers, ${r.report.utxoTxs} UTXO transactions, ${r.report.rejected.length} rejected lines`);
  }
  return { labels, graph, notes };
}

function exposureCmd(): Command {
  return new Command('exposure')
    .description('Exposure of an address to sanctioned/risky addresses, direct and within N hops, under a taint model')
    .requiredOption('--address <address>', 'the address to screen')
    .option('--labels <dir>', 'directory of ofac-sanctioned-*.json lists')
    .option('--tags <file>', 'user tag list (CSV or NDJSON; repeatable)', collect, [])
    .option('--transfers <file>', 'chain transfers (CSV or NDJSON, plain or .gz; repeatable; required)', collect, [])
    .option('--hops <n>', 'longest path considered', int, 3)
    .addOption(new Option('--model <model>', 'taint model').choices([...TAINT_MODELS]).default('haircut'))
    .addOption(new Option('--direction <dir>', 'incoming (deposit: where funds came from) or outgoing (withdrawal: where they go)').choices(['incoming', 'outgoing']).default('incoming'))
    .option('--json', 'print JSON')
    .action(async (o) => {
      if (!o.transfers.length) throw new Error('graph exposure needs --transfers FILE (chain transfers, CSV or NDJSON)');
      const { labels, graph, notes } = await chainContext(o);
      const index = new ScreeningIndex(graph, labels, { hops: o.hops });
      const screening = index.screen(o.address, o.direction as Direction);
      const exposure = traceExposure(graph, labels, o.address, { hops: o.hops, model: o.model as TaintModel, direction: o.direction as Direction, classes: index.classes });
      print(o, { screening, exposure }, () => {
        const lines = [...notes.map((n) => `# ${n}`)];
        lines.push(`${exposure.address}: risk ${screening.risk.toUpperCase()} (${o.direction}, ${o.hops} hops)`);
        for (const r of screening.reasons) lines.push(`  ${r}`);
        lines.push(
          `  ${o.model} exposure: ${(exposure.exposure * 100).toFixed(2)}% (${fmt(exposure.taintedValue, 8)} of ${fmt(exposure.totalValue, 8)})${exposure.direct ? ', direct' : ''}${exposure.truncated ? ' [search truncated]' : ''}`,
        );
        for (const c of exposure.counterparties) {
          lines.push(`  ${c.address} [${c.labels.map((l) => `${l.label}/${l.category}`).join(', ')}] ${c.hops} hop${c.hops === 1 ? '' : 's'}, ${(c.share * 100).toFixed(2)}%`);
          for (const s of c.path) lines.push(`    ${s.from} -> ${s.to}  ${fmt(s.value, 8)} at ${iso(s.time)}${s.txHash ? ` tx ${s.txHash}` : ''}`);
        }
        for (const s of exposure.stoppedAt) lines.push(`  stopped at service ${s.address} (${s.labels.join(', ')})`);
        return lines.join('\n');
      });
    });
}

function scanCmd(): Command {
  return new Command('scan')
    .description('Score every account of a transfer graph for laundering (unsupervised); with labels, report precision, recall, AUC')
    .argument('<dir>', 'input directory')
    .addOption(new Option('--format <format>', 'input format').choices(['amlsim']).default('amlsim'))
    .option('--out <file>', 'write nodeid,score for every account')
    .option('--window <w>', 'time window in the data’s time unit (default: derived from density)', num)
    .option('--json', 'print JSON')
    .action(async (dir: string, o) => {
      const scan = await scanAmlsim(dir, { window: o.window });
      const { data, result, evaluation } = scan;
      if (o.out) {
        const lines = ['nodeid,score'];
        for (let i = 0; i < data.accounts.length; i++) lines.push(`${data.accounts[i]},${result.score[i].toFixed(6)}`);
        await writeFile(o.out, lines.join('\n') + '\n');
      }
      const summary = {
        accounts: data.accounts.length,
        transfers: data.transfers.src.length,
        rejected: data.rejected.length,
        window: result.window,
        ms: Math.round(scan.ms),
        evaluation,
        out: o.out ?? null,
      };
      print(o, summary, () => {
        const lines = [`scanned ${summary.accounts} accounts, ${summary.transfers} transfers (${summary.rejected} rejected rows) in ${summary.ms} ms; window ${result.window}`];
        if (evaluation) {
          const e = evaluation;
          lines.push(`labels: ${e.positives} flagged accounts (isFraud)`);
          lines.push(`AUC ${e.auc.toFixed(4)}  average precision ${e.averagePrecision.toFixed(4)}`);
          lines.push(`top-k (k = ${e.topK.k}, the number flagged): precision ${e.topK.precision.toFixed(4)} recall ${e.topK.recall.toFixed(4)}`);
          lines.push(`best F1 (score >= ${e.bestF1.threshold.toFixed(4)}, ${e.bestF1.flagged} flagged): precision ${e.bestF1.precision.toFixed(4)} recall ${e.bestF1.recall.toFixed(4)} F1 ${e.bestF1.f1.toFixed(4)}`);
        } else lines.push('no labels in the input: nothing to evaluate');
        if (o.out) lines.push(`wrote ${o.out}`);
        return lines.join('\n');
      });
    });
}

function explainCmd(): Command {
  return new Command('explain')
    .description('Explain an account or an address: its path to the bad address, its cluster and its features')
    .argument('<id>', 'account id (or account:ID), or an address')
    .argument('[files...]', 'canonical event files for an account, or the AMLSim directory with --format amlsim')
    .addOption(new Option('--format <format>', 'input format').choices(['auto', 'amlsim', ...FORMATS()]).default('auto'))
    .option('--flagged <ids>', 'comma-separated known-bad accounts/addresses (node keys or account ids) seeding propagation')
    .option('--labels <dir>', 'directory of ofac-sanctioned-*.json lists')
    .option('--tags <file>', 'user tag list (repeatable)', collect, [])
    .option('--transfers <file>', 'chain transfers (repeatable)', collect, [])
    .option('--hops <n>', 'longest path considered', int, 3)
    .addOption(new Option('--model <model>', 'taint model for addresses').choices([...TAINT_MODELS]).default('haircut'))
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'no progress bar')
    .action(async (id: string, files: string[], o) => {
      if (o.format === 'amlsim') {
        if (!files[0]) throw new Error('explain --format amlsim needs the AMLSim directory');
        const scan = await scanAmlsim(files[0]);
        const x = explainAmlsimAccount(scan, id.replace(/^account:/, ''));
        print(o, x, () =>
          [
            `account ${x.id}${x.isFraud === null ? '' : x.isFraud ? ' (isFraud = 1)' : ' (isFraud = 0)'}: score ${fmt(x.score)} = base ${fmt(x.base)} + propagated ${fmt(x.propagated)}`,
            `  ${Object.entries(x.features).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`,
            ...x.transfers.map((t) => `  ${scan.data.accounts[t.from]} -> ${scan.data.accounts[t.to]} ${t.value} at ${t.time}: suspicion ${t.suspicion}; ${t.why.join('; ')}`),
          ].join('\n'),
        );
        return;
      }
      const out: Record<string, unknown> = { id };
      const lines: string[] = [];
      if (files.length) {
        const { builder } = await buildGraph(files, o);
        const g: EntityGraph = builder.graph;
        const key = g.hasNode(id) ? id : g.hasNode(accountKey(id)) ? accountKey(id) : g.hasNode(addressKey(id)) ? addressKey(id) : null;
        if (key) {
          const flagged = (o.flagged ? String(o.flagged).split(',') : []).map((f) => (g.hasNode(f) ? f : g.hasNode(accountKey(f)) ? accountKey(f) : addressKey(f))).filter((f) => g.hasNode(f));
          const clusters = linkedClusters(g);
          const cid = clusters.clusterOf.get(key);
          const cluster = cid === undefined ? null : clusters.clusters[cid];
          out.node = key;
          out.attributes = g.getNodeAttributes(key);
          if (cluster) out.cluster = { id: cluster.id, members: cluster.members, identifiers: cluster.identifiers.slice(0, 10), links: cluster.links.filter((l) => l.a === key || l.b === key).slice(0, 10) };
          lines.push(`${key}: ${cluster ? `in linked cluster ${cluster.id} of ${cluster.size} (${cluster.members.map(short).join(' ')})` : 'in no linked cluster'}`);
          if (cluster) for (const l of cluster.links.filter((x) => x.a === key || x.b === key).slice(0, 5)) lines.push(`  linked to ${short(l.a === key ? l.b : l.a)} (weight ${fmt(l.weight)}) via ${l.via.map((v) => v.node).join(', ')}`);
          if (key.startsWith('account:')) {
            const f = accountFeatures(g, { flagged, clusters, accounts: [key] }).get(key)!;
            out.features = f;
            lines.push(`  features: ${Object.entries(f).filter(([k]) => k !== 'account').map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`).join(', ')}`);
            const rings = collusiveRings(g).filter((r) => r.members.some((m) => m.account === key));
            const farms = sybilFarms(g).filter((x) => x.members.includes(key));
            out.rings = rings;
            out.farms = farms;
            for (const r of rings) lines.push(`  ring ${r.id}: ${r.reason}`);
            for (const x of farms) lines.push(`  farm ${x.id}: ${x.reason}`);
          }
          if (flagged.length) {
            const ppr = riskPropagation(g, flagged, { top: 0 });
            const e = ppr.explain(key);
            out.propagation = e;
            if (e) lines.push(`  risk propagation from ${flagged.join(', ')}: lift ${fmt(e.lift)}, ${e.hops < 0 ? 'no path' : `${e.hops} hops: ${e.path.join(' <- ')}`}`);
          }
        } else lines.push(`${id}: not in the entity graph`);
      }
      if (o.transfers.length || o.labels || o.tags.length) {
        const { labels, graph, notes } = await chainContext(o);
        const index = new ScreeningIndex(graph, labels, { hops: o.hops });
        const address = id.replace(/^address:/, '');
        const dep = index.screen(address, 'incoming', { model: o.model });
        const wd = index.screen(address, 'outgoing', { model: o.model });
        const cluster = clusterByCommonInput(graph).of(address);
        out.screening = { incoming: dep, outgoing: wd };
        out.utxoCluster = cluster;
        lines.push(...notes.map((n) => `# ${n}`));
        for (const r of [dep, wd]) {
          lines.push(`${r.address} ${r.direction}: risk ${r.risk.toUpperCase()}; ${r.reasons.join('; ')}`);
          for (const s of r.path) lines.push(`    ${s.from} -> ${s.to}  ${fmt(s.value, 8)} at ${iso(s.time)}${s.txHash ? ` tx ${s.txHash}` : ''}`);
          if (r.exposure) lines.push(`  ${o.model} exposure ${(r.exposure.exposure * 100).toFixed(2)}%`);
        }
        if (cluster) lines.push(`  common-input cluster ${cluster.id} of ${cluster.size} addresses (evidence ${cluster.evidence.slice(0, 3).join(', ')})`);
      }
      if (!lines.length) lines.push('nothing to explain from: give event files, or --transfers/--labels for an address');
      print(o, out, () => lines.join('\n'));
    });
}

export function graphCommand(): Command {
  return new Command('graph')
    .description('Graph intelligence: linked accounts, collusive rings, sybil farms, risk propagation, on-chain exposure, AMLSim scans')
    .addCommand(buildCmd())
    .addCommand(clustersCmd())
    .addCommand(ringsCmd())
    .addCommand(farmsCmd())
    .addCommand(exposureCmd())
    .addCommand(explainCmd())
    .addCommand(scanCmd());
}
