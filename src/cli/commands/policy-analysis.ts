import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { TYPOLOGIES, type LabelEpisode } from '../../events/labels.js';
import {
  backtestPolicy,
  formatBacktest,
  formatShadowStats,
  formatTuning,
  mineRules,
  policyWithRules,
  PolicyRegistry,
  readTruthFile,
  runShadow,
  tuneThresholds,
  type CaseDisposition,
  type EventInput,
  type InputProgress,
} from '../../policy/index.js';
import { loadPolicyFile, type PolicyDoc } from '../../rules/index.js';
import { SimConfigFile, parseDuration, type SimConfigInput } from '../../sim/config.js';
import { openStore, type Store } from '../../store/index.js';
import { progressBar, type Progress } from '../progress.js';

/**
 * `riskloop policy backtest|shadow|mine|tune`: the analysis half of the policy lifecycle. Inputs
 * are event files (any replay format, .gz too) or a simulator run; ground truth is a labels file
 * (label episodes or case dispositions) or the simulator's own.
 */

interface InputFlags {
  events?: string[];
  simSeed?: number;
  simDuration?: string;
  simConfig?: string;
  labels?: string;
  typology?: string[];
  surveillance?: boolean;
  quiet?: boolean;
}

const print = (text: string) => process.stdout.write(text.replace(/\n?$/, '\n'));
const json = (v: unknown) => print(JSON.stringify(v, null, 2));

function intArg(what: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer, got "${v}"`);
    return n;
  };
}
function numArg(what: string, lo = 0, hi = Infinity) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new Error(`${what} must be a number in [${lo}, ${hi}], got "${v}"`);
    return n;
  };
}
const versionArg = (v: string) => {
  const m = /^v?(\d+)$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1) throw new Error(`a version is a number such as 3 or v3, got "${v}"`);
  return Number(m[1]);
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

function addInputOptions(c: Command): Command {
  return c
    .option('--events <files...>', 'event files (NDJSON or any replay format, plain or .gz)')
    .option('--sim-seed <n>', 'simulate the events instead (seeded; its labels are the ground truth)', intArg('--sim-seed'))
    .option('--sim-duration <d>', 'simulated event time, e.g. 30m, 2h (default 30m)')
    .option('--sim-config <file>', 'simulator JSON config (see docs/simulator.md)')
    .option('--labels <file>', 'ground truth: label episodes (labels.ndjson) or case dispositions NDJSON')
    .option('--typology <t>', `count only episodes of this typology (repeatable): ${TYPOLOGIES.join(', ')}`, collect)
    .option('--surveillance', 'run the surveillance detectors beside, so rules can use alerts(...)')
    .option('-q, --quiet', 'no progress bar');
}

async function inputOf(o: InputFlags): Promise<EventInput> {
  if (o.events?.length && o.simSeed !== undefined) throw new Error('give either --events FILE… or --sim-seed N, not both');
  if (o.events?.length) {
    for (const f of o.events) if (f !== '-' && !existsSync(f)) throw new Error(`no such events file: ${f}`);
    return { files: o.events };
  }
  if (o.simSeed === undefined) throw new Error('no events: give --events FILE… or --sim-seed N');
  const sim: SimConfigInput = o.simConfig ? SimConfigFile.parse(JSON.parse(await readFile(o.simConfig, 'utf8'))) : {};
  sim.seed = o.simSeed;
  sim.duration = o.simDuration ?? (sim.duration as string | undefined) ?? '30m';
  parseDuration(sim.duration);
  return { sim };
}

async function truthOf(o: InputFlags): Promise<{ labels?: LabelEpisode[]; dispositions?: CaseDisposition[] }> {
  if (o.typology) for (const t of o.typology) if (!(TYPOLOGIES as readonly string[]).includes(t)) throw new Error(`unknown typology "${t}" (one of ${TYPOLOGIES.join(', ')})`);
  if (!o.labels) return {};
  const t = await readTruthFile(o.labels);
  return t.dispositions.length ? { dispositions: t.dispositions } : { labels: t.episodes };
}

/** A progress bar over simulated event time, or over file bytes. */
function progressFor(input: EventInput, label: string, quiet?: boolean): { update: (events: number, info?: InputProgress) => void; stop: () => void } {
  let bar: Progress | undefined;
  const total = 'files' in input ? input.files.reduce((s: number, f) => s + (typeof f === 'string' && f !== '-' ? statSync(f).size : 0), 0) : 0;
  return {
    update(events, info) {
      if (info?.now !== undefined && info.start !== undefined && info.end !== undefined) {
        bar ??= progressBar(Math.round((info.end - info.start) / 1000), label, { quiet, unit: 's event time' });
        bar.update(Math.round((info.now - info.start) / 1000), { detail: `${events} events` });
      } else if (info?.bytes !== undefined && total > 0) {
        bar ??= progressBar(total, label, { quiet, unit: 'bytes' });
        bar.update(Math.min(total, info.bytes), { detail: `${events} events` });
      }
    },
    stop: () => bar?.stop(),
  };
}

async function withStore<T>(cmd: Command, fn: (reg: PolicyRegistry) => Promise<T>): Promise<T> {
  const o = cmd.optsWithGlobals() as { store?: string; db?: string };
  const store: Store = await openStore({ url: o.db, dataDir: o.store });
  try {
    return await fn(new PolicyRegistry(store));
  } finally {
    await store.close();
  }
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** A policy argument: a file, or NAME (with --version, default the latest) in the store. */
async function resolvePolicy(reg: PolicyRegistry | null, arg: string, version?: number): Promise<{ doc: PolicyDoc; version?: number; stored: boolean }> {
  if (isFile(arg)) return { doc: loadPolicyFile(arg), stored: false };
  if (!reg) throw new Error(`no policy file ${arg}`);
  const versions = await reg.versions(arg);
  if (versions.length === 0) throw new Error(`no policy file or stored policy named "${arg}" (see \`riskloop policy list\`)`);
  const v = version !== undefined ? versions.find((x) => x.version === version) : versions[versions.length - 1];
  if (!v) throw new Error(`${arg} has no version ${version} (versions ${versions.map((x) => x.version).join(', ')})`);
  return { doc: v.doc, version: v.version, stored: true };
}

export function addPolicyAnalysisCommands(cmd: Command): void {
  addInputOptions(
    cmd
      .command('backtest')
      .description('Replay events through a policy version and the active one side by side: decisions and alerts per day, precision/recall/F1 against labels, new and lost hits with examples, analyst cost')
      .argument('<policy>', 'a stored policy NAME or a policy file (.rules, .yaml, .json)')
      .option('--version <n>', 'version of a stored policy (default: the latest)', versionArg)
      .option('--baseline <v|file>', 'compare with this version or policy file (default for a stored policy: its active version); "none" for no comparison')
      .option('--capacity <n>', 'alerts one analyst works per day (default 50)', numArg('--capacity', 1))
      .option('--attach', 'store the report on the version (draft → backtested); needs --actor')
      .option('--actor <name>', 'who ran the backtest (with --attach)')
      .option('--out <file>', 'also write the JSON report here')
      .option('--json', 'print the report as JSON'),
  )
    .addHelpText('after', '\nExamples:\n  riskloop policy backtest payments --version 3 --events day1.ndjson.gz --labels labels.ndjson\n  riskloop policy backtest candidate.rules --baseline live.rules --sim-seed 7 --sim-duration 1h --typology quote_stuffing')
    .action(async (arg: string, o: InputFlags & { version?: number; baseline?: string; capacity?: number; attach?: boolean; actor?: string; out?: string; json?: boolean }, self: Command) => {
      if (o.attach && !o.actor) throw new Error('--attach needs --actor NAME');
      const input = await inputOf(o);
      const truth = await truthOf(o);
      const needStore = !isFile(arg) || o.attach || (o.baseline !== undefined && !isFile(o.baseline) && o.baseline !== 'none');
      const run = async (reg: PolicyRegistry | null) => {
        const cand = await resolvePolicy(reg, arg, o.version);
        let base: { doc: PolicyDoc; version?: number } | undefined;
        if (o.baseline === 'none') base = undefined;
        else if (o.baseline !== undefined) base = isFile(o.baseline) ? { doc: loadPolicyFile(o.baseline) } : await resolvePolicy(reg, cand.doc.name, versionArg(o.baseline));
        else if (reg && cand.stored) {
          const a = await reg.active(cand.doc.name);
          if (a && a.version !== cand.version) base = { doc: a.doc, version: a.version };
        }
        const bar = progressFor(input, 'backtest', o.quiet);
        const report = await backtestPolicy({
          candidate: cand.doc,
          ...(cand.version !== undefined ? { candidateVersion: cand.version } : {}),
          ...(base ? { baseline: base.doc, ...(base.version !== undefined ? { baselineVersion: base.version } : {}) } : {}),
          input,
          ...truth,
          ...(o.typology ? { typologies: o.typology } : {}),
          ...(o.capacity !== undefined ? { analystCapacity: o.capacity } : {}),
          surveillance: o.surveillance === true,
          onProgress: bar.update,
        });
        bar.stop();
        if (o.attach) {
          if (!reg || cand.version === undefined) throw new Error('--attach needs a stored policy version (create it first: riskloop policy create FILE --author NAME)');
          await reg.attachBacktest(cand.doc.name, cand.version, report, o.actor!);
        }
        return report;
      };
      const report = needStore ? await withStore(self, run) : await run(null);
      if (o.out) await writeFile(o.out, JSON.stringify(report, null, 2) + '\n');
      if (o.json) json(report);
      else print(formatBacktest(report));
    });

  addInputOptions(
    cmd
      .command('shadow')
      .description('Run shadow versions beside the active one over events: phantom decisions are recorded and compared, never acted on')
      .argument('<policy>', 'stored policy NAME')
      .option('--version <n>', 'shadow this version (repeatable; default: every version in shadow)', (v: string, prev: number[] = []) => [...prev, versionArg(v)])
      .option('--start', 'first move the --version(s) into shadow (backtested → shadow); needs --actor')
      .option('--actor <name>', 'who runs the shadow (stores the comparison report on each version)')
      .option('--reason <text>', 'why (with --start)')
      .option('--json', 'print the comparison as JSON'),
  )
    .addHelpText('after', '\nExample:\n  riskloop policy shadow payments --version 4 --start --actor carol --events today.ndjson')
    .action(async (name: string, o: InputFlags & { version?: number[]; start?: boolean; actor?: string; reason?: string; json?: boolean }, self: Command) => {
      if (o.start && (!o.actor || !o.version?.length)) throw new Error('--start needs --version N and --actor NAME');
      const input = await inputOf(o);
      const truth = await truthOf(o);
      const res = await withStore(self, async (reg) => {
        if (o.start) for (const v of o.version!) await reg.startShadow(name, v, o.actor!, o.reason);
        const bar = progressFor(input, 'shadow', o.quiet);
        const r = await runShadow({ registry: reg, policy: name, ...(o.version ? { versions: o.version } : {}), input, ...truth, ...(o.typology ? { typologies: o.typology } : {}), surveillance: o.surveillance === true, onProgress: bar.update });
        bar.stop();
        if (o.actor) for (const s of r.stats) await reg.attachShadowReport(name, s.version, s, o.actor);
        const comparisons = [];
        for (const s of r.stats) comparisons.push(await reg.shadowComparison(name, s.version));
        return { ...r, comparisons };
      });
      if (o.json) json(res);
      else print(`${formatShadowStats(res.stats)}\n${res.comparisons.map((c) => `stored for ${c.policy} v${c.version}: ${c.total} phantom decisions, ${c.agree} agree, ${c.disagree} disagree`).join('\n')}`);
    });

  addInputOptions(
    cmd
      .command('mine')
      .description('Learn candidate rules from labelled events (bagged shallow trees, skope-rules style): each with precision, recall and coverage, near-duplicates removed')
      .option('--out <file>', 'write the candidate rules (a .rules file)')
      .option('--event-type <type>', 'event types the rules apply to (repeatable; default: the type with most positives)', collect)
      .option('--feature <expr>', 'a candidate feature expression in the rule language (repeatable; default: the built-in catalogue)', collect)
      .option('--seed <n>', 'learner seed (default 1)', intArg('--seed'))
      .option('--max-rules <n>', 'at most this many rules (default 5)', intArg('--max-rules'))
      .option('--min-precision <p>', 'out-of-bag precision floor (default 0.5)', numArg('--min-precision', 0, 1))
      .option('--min-recall <r>', 'out-of-bag recall floor (default 0.05)', numArg('--min-recall', 0, 1))
      .option('--outcome <o>', 'outcome of the mined rules: review, limit, hold, block (default review)')
      .option('--create <policy>', 'store a draft: the stored policy (its active version, else latest) plus the mined rules, with a backtest attached; needs --author')
      .option('--author <name>', 'author of the draft (with --create)')
      .option('--json', 'print the candidates as JSON'),
  )
    .addHelpText('after', '\nExample:\n  riskloop policy mine --events run/events.ndjson --labels run/labels.ndjson --typology quote_stuffing --out stuffing.rules')
    .action(async (o: InputFlags & { out?: string; eventType?: string[]; feature?: string[]; seed?: number; maxRules?: number; minPrecision?: number; minRecall?: number; outcome?: string; create?: string; author?: string; json?: boolean }, self: Command) => {
      if (o.create && !o.author) throw new Error('--create needs --author NAME');
      if (o.typology && o.typology.length > 1) throw new Error('mine learns one typology at a time: give a single --typology');
      if (o.outcome !== undefined && !['review', 'limit', 'hold', 'block'].includes(o.outcome)) throw new Error(`--outcome must be review, limit, hold or block, got "${o.outcome}"`);
      const input = await inputOf(o);
      const truth = await truthOf(o);
      const bar = progressFor(input, 'mine', o.quiet);
      const res = await mineRules({
        input,
        ...truth,
        ...(o.typology?.[0] ? { typology: o.typology[0] } : {}),
        ...(o.eventType ? { eventTypes: o.eventType } : {}),
        ...(o.feature ? { features: o.feature } : {}),
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        ...(o.maxRules !== undefined ? { maxRules: o.maxRules } : {}),
        ...(o.minPrecision !== undefined ? { minPrecision: o.minPrecision } : {}),
        ...(o.minRecall !== undefined ? { minRecall: o.minRecall } : {}),
        ...(o.outcome ? { outcome: o.outcome as 'review' } : {}),
        surveillance: o.surveillance === true,
        onProgress: bar.update,
      });
      bar.stop();
      if (o.out) await writeFile(o.out, res.source || '# no rule cleared the precision and recall floors\n');
      let draft: { policy: string; version: number; summary: string } | undefined;
      if (o.create && res.candidates.length) draft = await withStore(self, (reg) => createDraftWithBacktest(reg, o.create!, o.author!, (base) => policyWithRules(base, res.source), `mined ${res.candidates.length} rule(s) for ${res.typology ?? 'the labels'} from ${res.positives} positive events`, input, truth, o));
      if (o.json) {
        json({ ...res, ...(draft ? { draft } : {}) });
        return;
      }
      print(`${res.events} events; ${res.populationEvents} ${res.eventTypes.join('/')} events, ${res.positives} positive; ${res.rows} rows learned from; ${res.candidates.length} candidate rule(s)\n`);
      print(res.source || 'no rule cleared the precision and recall floors');
      if (draft) print(`stored ${draft.policy} v${draft.version} (backtested): ${draft.summary}`);
    });

  addInputOptions(
    cmd
      .command('tune')
      .description("Tune a policy's numeric thresholds: most episodes caught with alerts/day within capacity (or a precision floor), with above- and below-the-line sweeps per parameter")
      .argument('<policy>', 'a stored policy NAME or a policy file')
      .option('--version <n>', 'version of a stored policy (default: the latest)', versionArg)
      .option('--rule <name>', 'tune only this rule (repeatable)', collect)
      .option('--capacity <n>', 'alert budget: alerts per day', numArg('--capacity', 0))
      .option('--min-precision <p>', 'alert precision floor', numArg('--min-precision', 0, 1))
      .option('--out <file>', 'write the tuned policy (JSON) here')
      .option('--create', 'store the tuned policy as a new draft with a backtest attached; needs --author')
      .option('--author <name>', 'author of the draft (with --create)')
      .option('--json', 'print the tuning as JSON'),
  )
    .addHelpText('after', '\nExample:\n  riskloop policy tune payments --events week.ndjson.gz --labels cases.ndjson --capacity 40')
    .action(async (arg: string, o: InputFlags & { version?: number; rule?: string[]; capacity?: number; minPrecision?: number; out?: string; create?: boolean; author?: string; json?: boolean }, self: Command) => {
      if (o.capacity === undefined && o.minPrecision === undefined) throw new Error('give the budget: --capacity ALERTS_PER_DAY and/or --min-precision P');
      if (o.create && !o.author) throw new Error('--create needs --author NAME');
      const input = await inputOf(o);
      const truth = await truthOf(o);
      const run = async (reg: PolicyRegistry | null) => {
        const pol = await resolvePolicy(reg, arg, o.version);
        const bar = progressFor(input, 'tune', o.quiet);
        const t = await tuneThresholds({ policy: pol.doc, ...(o.rule ? { rules: o.rule } : {}), input, ...truth, ...(o.typology ? { typologies: o.typology } : {}), ...(o.capacity !== undefined ? { capacityPerDay: o.capacity } : {}), ...(o.minPrecision !== undefined ? { minPrecision: o.minPrecision } : {}), surveillance: o.surveillance === true, onProgress: bar.update });
        bar.stop();
        let draft: { policy: string; version: number; summary: string } | undefined;
        if (o.create && reg) {
          if (t.policy.rules === pol.doc.rules) throw new Error('tuning changed no threshold: nothing to store');
          draft = await createDraftWithBacktest(reg, pol.doc.name, o.author!, () => t.policy, `thresholds tuned to ${o.capacity !== undefined ? `${o.capacity} alerts/day` : ''}${o.minPrecision !== undefined ? ` precision >= ${o.minPrecision}` : ''}`, input, truth, o);
        }
        return { ...t, ...(draft ? { draft } : {}) };
      };
      const res = o.create || !isFile(arg) ? await withStore(self, run) : await run(null);
      if (o.out) await writeFile(o.out, JSON.stringify(res.policy, null, 2) + '\n');
      if (o.json) {
        json(res);
        return;
      }
      print(formatTuning(res));
      if (res.draft) print(`stored ${res.draft.policy} v${res.draft.version} (backtested): ${res.draft.summary}`);
    });
}

/** Mined or tuned rules enter the lifecycle as a draft with their backtest (against the active version) attached. */
async function createDraftWithBacktest(
  reg: PolicyRegistry,
  policy: string,
  author: string,
  build: (base: PolicyDoc) => PolicyDoc,
  reason: string,
  input: EventInput,
  truth: { labels?: LabelEpisode[]; dispositions?: CaseDisposition[] },
  o: InputFlags,
): Promise<{ policy: string; version: number; summary: string }> {
  const active = await reg.active(policy);
  const versions = await reg.versions(policy);
  const base = active ?? versions[versions.length - 1];
  if (!base) throw new Error(`no stored policy named "${policy}" to add the rules to (create it first: riskloop policy create FILE --author NAME)`);
  const doc = build(base.doc);
  const v = await reg.createVersion({ doc, author, reason });
  const report = await backtestPolicy({ candidate: doc, candidateVersion: v.version, ...(active ? { baseline: active.doc, baselineVersion: active.version } : {}), input, ...truth, ...(o.typology ? { typologies: o.typology } : {}), surveillance: o.surveillance === true });
  await reg.attachBacktest(policy, v.version, report, author, 'backtest on the data the rules came from');
  return { policy, version: v.version, summary: report.summary };
}
