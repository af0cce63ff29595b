import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { buildDataset, inferFeatureSpecs, germanFeatureSpecs, loadTable, parseNumber, rowOf, type DataFormat, type Dataset, type FeatureSpec } from '../../scoring/data.js';
import { crossValidate } from '../../scoring/cv.js';
import { importLightgbmFile } from '../../scoring/import/lightgbm.js';
import { importXgboostFile } from '../../scoring/import/xgboost.js';
import { evaluate, psi, scoreDistribution } from '../../scoring/metrics.js';
import { loadArtifact, registerArtifact, setAlias, sha256, writeArtifact } from '../../scoring/model-artifact.js';
import type { ModelJSON } from '../../scoring/model.js';
import { trainModel, type ModelKind } from '../../scoring/train.js';
import { Decider, modelVersion, type Decision } from '../../scoring/decide/decide.js';
import { parsePolicy, policyJsonSchema } from '../../scoring/decide/policy.js';
import { RescoreOperator, type ScoreChange } from '../../scoring/decide/rescore.js';
import type { FeatureInput } from '../../scoring/features/engine.js';
import { labelledFeatures } from '../../scoring/features/training.js';
import { LabelEpisode } from '../../events/labels.js';
import type { ExchangeEvent } from '../../events/schema.js';
import { NdjsonDecoder } from '../../sources/ndjson.js';
import { createInterface } from 'node:readline';
import { progressBar } from '../progress.js';

function dataOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--data <file>', 'CSV file with a header (or German credit\'s german.data with --format german)')
    .addOption(new Option('--format <format>', 'data format').choices(['auto', 'csv', 'german']).default('auto'))
    .option('--delimiter <char>', 'CSV delimiter (sniffed from the header when not given)');
}

function parseJsonOption(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined) return {};
  const t = text.trim().startsWith('{') ? text : readFileSync(text, 'utf8');
  try {
    return JSON.parse(t);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** "age=+1,duration_months=-1" → { age: 1, duration_months: -1 } */
export function parseMonotone(text: string | undefined): Record<string, 1 | -1> {
  const out: Record<string, 1 | -1> = {};
  if (!text) return out;
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(.+?)=([+-]?1|increasing|decreasing)$/.exec(part);
    if (!m) throw new Error(`--monotone: "${part}" is not col=+1 or col=-1`);
    out[m[1].trim()] = m[2] === '-1' || m[2] === 'decreasing' ? -1 : 1;
  }
  return out;
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

interface LoadedData {
  dataset: Dataset;
  fingerprint: string;
  columns: string[];
  format: 'csv' | 'german';
  warnings: string[];
}

/** Training data: the schema is inferred (German credit has a fixed one). */
function loadTraining(o: Record<string, any>): LoadedData {
  const lt = loadTable(o.data, o.format as DataFormat, o.delimiter);
  const target: string | undefined = o.target ?? (lt.format === 'german' ? 'bad' : undefined);
  if (!target) throw new Error('--target COL is required');
  const features =
    lt.format === 'german'
      ? germanFeatureSpecs(lt.table)
      : inferFeatureSpecs(lt.table, { exclude: [target, ...list(o.exclude)], categorical: list(o.categorical) });
  const { dataset } = buildDataset(lt.table, features, { target, positive: o.positive });
  return { dataset, fingerprint: lt.fingerprint, columns: lt.table.header, format: lt.format, warnings: [] };
}

/** Scoring data: read against the model's schema; unseen categories and non-numbers are counted. */
function loadScoring(o: Record<string, any>, features: FeatureSpec[], target?: string): LoadedData {
  const lt = loadTable(o.data, o.format as DataFormat, o.delimiter);
  const { dataset, report } = buildDataset(lt.table, features, { target, positive: o.positive });
  const warnings: string[] = [];
  for (const [c, n] of Object.entries(report.unseenCategories)) warnings.push(`${c}: ${n} value(s) in categories unseen in training, scored as missing`);
  for (const [c, n] of Object.entries(report.badNumbers)) warnings.push(`${c}: ${n} non-numeric value(s) in a numeric column, scored as missing`);
  return { dataset, fingerprint: lt.fingerprint, columns: lt.table.header, format: lt.format, warnings };
}

function warn(lines: string[]): void {
  for (const l of lines) process.stderr.write(`riskloop score: warning: ${l}\n`);
}

const f4 = (v: unknown) => (typeof v === 'number' ? (Number.isFinite(v) ? v.toFixed(4) : String(v)) : String(v));

function trainCommand(): Command {
  const cmd = new Command('train').description('Train a GBDT or a scorecard and write a versioned model artifact');
  dataOptions(cmd)
    .option('--target <col>', 'target column: 0/1 with 1 = bad (default "bad" for German credit)')
    .option('--positive <label>', 'label of the bad class when the target is not 0/1')
    .addOption(new Option('--model <kind>', 'model').choices(['gbdt', 'scorecard']).default('gbdt'))
    .option('--params <json>', 'model parameters as JSON (or a JSON file), see docs/scoring.md')
    .option('--monotone <list>', 'GBDT monotone constraints: col=+1,col=-1 (checked after training)')
    .option('--categorical <cols>', 'columns to treat as categorical even if numeric')
    .option('--exclude <cols>', 'columns to leave out (ids, dates)')
    .addOption(new Option('--calibrate <method>', 'calibrate probabilities (GBDT: on a 20% hold-out)').choices(['platt', 'isotonic']))
    .option('--version <label>', 'version label (default: type + model hash)')
    .option('--register <modelsDir>', 'register the artifact in this models directory')
    .option('--alias <name>', 'with --register: point this alias (champion, challenger) at it')
    .requiredOption('--out <dir>', 'artifact directory')
    .option('--json', 'print the metadata as JSON');
  return cmd.action((o) => {
    const d = loadTraining(o);
    const kind = o.model as ModelKind;
    const out = trainModel(d.dataset, { model: kind, params: parseJsonOption(o.params, '--params'), monotone: parseMonotone(o.monotone), calibrate: o.calibrate });
    const meta = writeArtifact(o.out, out.json, {
      version: o.version,
      createdFrom: { fingerprint: d.fingerprint, file: basename(o.data), columns: d.columns, rows: d.dataset.nRows },
      features: d.dataset.features,
      target: d.dataset.targetName,
      metrics: out.metrics,
      trainingParams: out.params,
      trainingScores: scoreDistribution(out.trainPredictions),
    });
    if (o.register) registerArtifact(o.register, o.out, o.alias);
    if (o.json) return void process.stdout.write(JSON.stringify(meta, null, 2) + '\n');
    const train = out.metrics.train as Record<string, number>;
    const lines = [
      `trained ${kind} ${meta.version} on ${d.dataset.nRows} rows × ${d.dataset.features.length} features → ${o.out}`,
      `training AUC ${f4(train.auc)}, KS ${f4(train.ks)}, log-loss ${f4(train.logLoss)}`,
    ];
    if (out.metrics.valid) {
      const v = out.metrics.valid as Record<string, number>;
      lines.push(`hold-out AUC ${f4(v.auc)}, KS ${f4(v.ks)} (${v.bestIteration} trees kept)`);
    }
    if (out.monotone) lines.push(`monotone constraints ${JSON.stringify(out.monotone.constraints)}: verified (${out.monotone.leafPairsChecked} leaf pairs, ${out.monotone.probePoints} probe points)`);
    if (kind === 'scorecard') lines.push(`features in the scorecard: ${(out.metrics.featuresInModel as string[]).join(', ')}`);
    process.stdout.write(lines.join('\n') + '\n');
  });
}

function predictCommand(): Command {
  const cmd = new Command('predict').description('Score a CSV: one probability per input row, in input order, under a header "probability"');
  dataOptions(cmd)
    .requiredOption('--model <dir>', 'model artifact directory (or modelsDir@alias)')
    .option('--out <file>', 'output CSV (- for stdout)', '-');
  return cmd.action(async (o) => {
    const a = loadArtifact(o.model);
    const d = loadScoring(o, a.model.features);
    warn(d.warnings);
    const p = a.model.predictDataset(d.dataset);
    const text = 'probability\n' + Array.from(p, (v) => String(v)).join('\n') + (p.length ? '\n' : '');
    if (o.out === '-') return void process.stdout.write(text);
    await new Promise<void>((res, rej) => {
      const s = createWriteStream(o.out);
      s.on('error', rej);
      s.end(text, () => res());
    });
    process.stderr.write(`riskloop score: ${p.length} rows scored with ${a.metadata.version} → ${o.out}\n`);
  });
}

function evalCommand(): Command {
  const cmd = new Command('eval').description('Evaluate a model on labelled data: AUC, KS, Gini, log-loss, Brier, calibration table, PSI against the training scores');
  dataOptions(cmd)
    .requiredOption('--model <dir>', 'model artifact directory (or modelsDir@alias)')
    .option('--target <col>', 'target column (default: the training target)')
    .option('--positive <label>', 'label of the bad class when the target is not 0/1')
    .option('--json', 'print JSON');
  return cmd.action((o) => {
    const a = loadArtifact(o.model);
    const target = o.target ?? a.metadata.target;
    if (!target) throw new Error('--target COL is required');
    const d = loadScoring(o, a.model.features, target);
    warn(d.warnings);
    const p = a.model.predictDataset(d.dataset);
    const e = evaluate(d.dataset.target!, p);
    const stability = a.metadata.trainingScores ? psi(a.metadata.trainingScores, p) : undefined;
    const report = { model: a.metadata.version, type: a.model.type, data: basename(o.data), ...e, psi: stability?.psi ?? null, psiBins: stability?.bins ?? null };
    if (o.json) return void process.stdout.write(JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
    const lines = [
      `model ${a.metadata.version} (${a.model.type}) on ${basename(o.data)}: ${e.n} rows, ${e.positives} bad`,
      `AUC ${f4(e.auc)}  KS ${f4(e.ks)}  Gini ${f4(e.gini)}  log-loss ${f4(e.logLoss)}  Brier ${f4(e.brier)}`,
      `PSI against the training scores: ${stability ? f4(stability.psi) + (stability.psi < 0.1 ? ' (stable)' : stability.psi < 0.25 ? ' (moderate shift)' : ' (major shift)') : 'n/a (no training scores in metadata)'}`,
      '',
      'calibration (deciles of predicted probability)',
      'decile  rows  mean predicted  observed bad rate',
      ...e.calibration.map((c) => `${String(c.bin).padStart(6)}  ${String(c.count).padStart(4)}  ${c.meanPredicted.toFixed(4).padStart(14)}  ${c.observedRate.toFixed(4).padStart(17)}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  });
}

function explainCommand(): Command {
  const cmd = new Command('explain').description('Reason codes: the features that raise the risk most, with the applicant\'s values (SHAP contributions, or scorecard points lost)');
  dataOptions(cmd)
    .requiredOption('--model <dir>', 'model artifact directory (or modelsDir@alias)')
    .option('--row <n>', 'data row to explain, 1-based (default: every row)', (v) => parseInt(v, 10))
    .option('--top <k>', 'reason codes per row', (v) => parseInt(v, 10), 4)
    .option('--json', 'print NDJSON, one object per row');
  return cmd.action((o) => {
    const a = loadArtifact(o.model);
    const d = loadScoring(o, a.model.features);
    warn(d.warnings);
    const n = d.dataset.nRows;
    if (o.row !== undefined && !(o.row >= 1 && o.row <= n)) throw new Error(`--row ${o.row} is outside 1..${n}`);
    const rows = o.row !== undefined ? [o.row - 1] : [...Array(n).keys()];
    const out: string[] = [];
    for (const r of rows) {
      const x = rowOf(d.dataset, r);
      const e = a.model.explain(x, o.top);
      if (o.json) {
        out.push(JSON.stringify({ row: r + 1, model: a.metadata.version, ...e }));
        continue;
      }
      const head = `row ${r + 1}: probability of bad ${e.probability.toFixed(4)}` + (e.score !== undefined ? `, score ${e.score.toFixed(1)} points` : `, margin ${e.margin.toFixed(4)} (base ${e.bias!.toFixed(4)})`);
      out.push(head);
      if (e.reasons.length === 0) out.push('  no adverse reasons');
      e.reasons.forEach((re, i) => {
        if (re.lost !== undefined) out.push(`  ${i + 1}. ${re.feature} = ${re.value} (bin ${re.bin}): ${re.points!.toFixed(1)} points, ${re.lost.toFixed(1)} below the best ${re.maxPoints!.toFixed(1)}`);
        else out.push(`  ${i + 1}. ${re.feature} = ${re.value}: +${re.contribution!.toFixed(4)} log-odds`);
      });
    }
    process.stdout.write(out.join('\n') + '\n');
  });
}

function importCommand(): Command {
  return new Command('import')
    .description('Import an XGBoost JSON model (save_model) or a LightGBM text model as a riskloop artifact')
    .argument('<file>', 'model file')
    .addOption(new Option('--format <format>', 'model format').choices(['xgboost', 'lightgbm']).makeOptionMandatory())
    .option('--feature-names <cols>', 'feature names in model order (when the model has none)')
    .option('--version <label>', 'version label')
    .requiredOption('--out <dir>', 'artifact directory')
    .action((file: string, o) => {
      const names = list(o.featureNames);
      const ens = o.format === 'xgboost' ? importXgboostFile(file, names.length ? names : undefined) : importLightgbmFile(file);
      if (o.format === 'lightgbm' && names.length) {
        if (names.length !== ens.features.length) throw new Error(`--feature-names lists ${names.length} names, the model has ${ens.features.length} features`);
        ens.features.forEach((f, i) => (f.name = names[i]));
      }
      const json: ModelJSON = { format: 'riskloop-model', formatVersion: 1, type: o.format, params: {}, model: ens.toJSON() };
      const meta = writeArtifact(o.out, json, {
        version: o.version,
        createdFrom: { file: basename(file), importedSha256: sha256(readFileSync(file)) },
        features: ens.features,
        metrics: { trees: ens.trees.length },
        trainingParams: {},
      });
      process.stdout.write(`imported ${o.format} model ${meta.version}: ${ens.trees.length} trees, ${ens.features.length} features, objective ${ens.objective} → ${o.out}\n`);
    });
}

function cvCommand(): Command {
  const cmd = new Command('cv').description('Repeated stratified k-fold cross-validation (seeded) of the scorecard and the GBDT: AUC, KS and cost-matrix cost');
  dataOptions(cmd)
    .option('--target <col>', 'target column (default "bad" for German credit)')
    .option('--positive <label>', 'label of the bad class when the target is not 0/1')
    .option('--folds <RxK>', 'repeats × folds, e.g. 5x2', '5x2')
    .option('--models <list>', 'models to compare', 'scorecard,gbdt')
    .option('--seed <n>', 'seed', (v) => parseInt(v, 10), 42)
    .option('--gbdt-params <json>', 'GBDT parameters (JSON)')
    .option('--scorecard-params <json>', 'scorecard parameters (JSON)')
    .option('--monotone <list>', 'GBDT monotone constraints col=+1,…')
    .option('--categorical <cols>', 'columns to treat as categorical even if numeric')
    .option('--exclude <cols>', 'columns to leave out')
    .option('--cost-bad-as-good <n>', 'cost of accepting a bad', parseFloat, 5)
    .option('--cost-good-as-bad <n>', 'cost of rejecting a good', parseFloat, 1)
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'no progress bar');
  return cmd.action((o) => {
    const m = /^(\d+)x(\d+)$/.exec(o.folds);
    if (!m) throw new Error('--folds must look like 5x2 (repeats x folds)');
    const [repeats, folds] = [Number(m[1]), Number(m[2])];
    if (folds < 2) throw new Error('--folds needs at least 2 folds');
    const models = list(o.models) as ModelKind[];
    for (const k of models) if (k !== 'gbdt' && k !== 'scorecard') throw new Error(`--models: unknown model "${k}"`);
    const d = loadTraining(o);
    const bar = progressBar(repeats * folds * models.length, 'cv', { quiet: o.quiet || o.json, unit: 'fits' });
    const res = crossValidate(d.dataset, {
      folds,
      repeats,
      seed: o.seed,
      models,
      params: { gbdt: parseJsonOption(o.gbdtParams, '--gbdt-params'), scorecard: parseJsonOption(o.scorecardParams, '--scorecard-params') },
      monotone: parseMonotone(o.monotone),
      costs: { badAsGood: o.costBadAsGood, goodAsBad: o.costGoodAsBad },
      onFold: (done) => bar.update(done),
    });
    bar.stop();
    if (o.json) return void process.stdout.write(JSON.stringify({ data: basename(o.data), rows: d.dataset.nRows, repeats, folds, seed: o.seed, results: res }, null, 2) + '\n');
    const lines = [
      `${repeats}×${folds}-fold stratified CV on ${basename(o.data)} (${d.dataset.nRows} rows, seed ${o.seed}); cost per applicant with bad-as-good = ${o.costBadAsGood}, good-as-bad = ${o.costGoodAsBad}, threshold chosen on each training fold`,
      '',
      '| model | AUC | KS | cost |',
      '| --- | --- | --- | --- |',
      ...res.map((r) => `| ${r.model} | ${r.mean.auc.toFixed(3)} ± ${r.sd.auc.toFixed(3)} | ${r.mean.ks.toFixed(3)} ± ${r.sd.ks.toFixed(3)} | ${r.mean.cost.toFixed(3)} ± ${r.sd.cost.toFixed(3)} |`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  });
}

function aliasCommand(): Command {
  return new Command('alias')
    .description('Register an artifact in a models directory and/or point an alias (champion, challenger) at a version')
    .requiredOption('--models <dir>', 'models directory (holds registry.json)')
    .option('--register <artifactDir>', 'register this artifact under its version label')
    .option('--set <alias=version>', 'point an alias at a registered version')
    .action((o) => {
      if (o.register) process.stdout.write(`registered ${registerArtifact(o.models, o.register)}\n`);
      if (o.set) {
        const [alias, version] = String(o.set).split('=');
        if (!alias || !version) throw new Error('--set must be alias=version');
        setAlias(o.models, alias, version);
        process.stdout.write(`${alias} → ${version}\n`);
      }
    });
}

/** Reads and validates an NDJSON event file; rejects are counted (with the first reason), never fatal. */
async function readEvents(file: string, onEvent: (e: ExchangeEvent) => void): Promise<{ events: number; rejected: number; firstReject?: string }> {
  const decoder = new NdjsonDecoder();
  const pos = { source: file, line: 0 };
  let events = 0;
  let rejected = 0;
  let firstReject: string | undefined;
  const emit = {
    event(e: ExchangeEvent) {
      events++;
      onEvent(e);
    },
    reject(reason: string) {
      rejected++;
      firstReject ??= `line ${pos.line}: ${reason}`;
    },
  };
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    pos.line++;
    if (line.trim()) decoder.decode(line, pos, emit);
  }
  return { events, rejected, firstReject };
}

function decisionLine(d: Decision): string {
  const prods = d.products.map((p) => `${p.product} ${p.eligible ? `${p.band} limit ${p.limit} ${p.currency}${Object.entries(p.pricing).map(([k, v]) => ` ${k} ${v}`).join('')}` : `${p.band} not eligible`}${p.hardRules.length ? ` [${p.hardRules.map((r) => `${r.id}: ${r.feature}=${r.value ?? 'missing'}`).join('; ')}]` : ''}`);
  const why = d.reasons.map((r) => `${r.feature}=${r.value}`).join(', ');
  return `${d.subject}: p(bad) ${d.probability.toFixed(4)}${d.score !== undefined ? ` score ${d.score.toFixed(0)}` : ''} | ${prods.join(' | ')}${why ? ` | reasons: ${why}` : ''}`;
}

function decideCommand(): Command {
  return new Command('decide')
    .description('Product decisions: eligibility, credit limit and pricing (APR, LTV, haircut, collateral ratio) by score band and hard rules, with the model version and the reasons')
    .requiredOption('--model <dir>', 'model artifact directory (or modelsDir@alias: the alias is recorded)')
    .requiredOption('--policy <file>', 'policy JSON (see `riskloop score policy-schema`)')
    .option('--data <file>', 'CSV of applicants: the model\'s features plus any columns the policy reads')
    .option('--events <file>', 'NDJSON event history: accounts are decided on point-in-time features')
    .addOption(new Option('--format <format>', 'data format (with --data)').choices(['auto', 'csv', 'german']).default('auto'))
    .option('--delimiter <char>', 'CSV delimiter (sniffed when not given)')
    .option('--id <col>', 'with --data: column naming the applicant (default: the row number)')
    .option('--accounts <ids>', 'with --events: only these accounts (comma-separated; default every account seen)')
    .option('--at <ms>', 'with --events: decide as of this event time (default: the last event)', (v) => Number(v))
    .option('--changes', 'with --events: also print the score-change events (large withdrawals, liquidations, price drops)')
    .option('--top <k>', 'reason codes per decision', (v) => parseInt(v, 10), 4)
    .option('--json', 'print NDJSON, one decision (or score change) per line')
    .action(async (o) => {
      if (!o.data === !o.events) throw new Error('give exactly one of --data FILE.csv or --events FILE.ndjson');
      const a = loadArtifact(o.model);
      let policyJson: unknown;
      try {
        policyJson = JSON.parse(readFileSync(o.policy, 'utf8'));
      } catch (err) {
        throw new Error(`--policy ${o.policy}: ${(err as Error).message}`);
      }
      const decider = new Decider(a.model, modelVersion(a, o.model), parsePolicy(policyJson, o.policy), { topReasons: o.top });
      const print = (x: Decision | ScoreChange) => process.stdout.write((o.json ? JSON.stringify(x) : 'subject' in x ? decisionLine(x) : `${x.accountId} ${x.trigger.kind} (${x.trigger.detail}): ${x.changed.map((c) => `${c.field} ${c.before}→${c.after}`).join(', ') || 'no change'}`) + '\n');
      if (o.data) {
        const d = loadScoring(o, a.model.features);
        warn(d.warnings);
        const lt = loadTable(o.data, o.format as DataFormat, o.delimiter);
        const col = new Map(lt.table.header.map((h, i) => [h, i]));
        const idCol = o.id !== undefined ? col.get(o.id) : undefined;
        if (o.id !== undefined && idCol === undefined) throw new Error(`--id ${o.id}: no such column (have ${lt.table.header.join(', ')})`);
        for (let r = 0; r < d.dataset.nRows; r++) {
          const cells = lt.table.rows[r];
          const lookup = (name: string) => {
            const i = col.get(name);
            const v = i === undefined ? undefined : parseNumber(cells[i] ?? '');
            return v === undefined ? NaN : v;
          };
          print(decider.decide(idCol !== undefined ? cells[idCol] : String(r + 1), rowOf(d.dataset, r), lookup));
        }
        return;
      }
      const op = new RescoreOperator({ decider, onChange: o.changes ? (c) => print(c) : undefined });
      const at: number | undefined = o.at;
      if (at !== undefined && !Number.isFinite(at)) throw new Error('--at must be an event time in epoch milliseconds');
      const r = await readEvents(o.events, (e) => {
        if (at === undefined || e.ts <= at) op.onEvent(e);
      });
      if (r.rejected) warn([`${r.rejected} record(s) rejected (first: ${r.firstReject})`]);
      const accounts = o.accounts ? list(o.accounts) : [...op.engine.accountIds()].sort();
      const asOf = at ?? op.engine.lastTs;
      for (const id of accounts) print(op.decide(id, asOf));
    });
}

function policySchemaCommand(): Command {
  return new Command('policy-schema')
    .description('Print the JSON Schema of decision policies (the zod schema `score decide` validates against)')
    .option('--out <file>', 'write it to a file instead of stdout')
    .action((o) => {
      const text = JSON.stringify(policyJsonSchema(), null, 2) + '\n';
      if (o.out) writeFileSync(o.out, text);
      else process.stdout.write(text);
    });
}

function featuresCommand(): Command {
  return new Command('features')
    .description('Point-in-time account features at regular decision times from an event history, as a labelled training CSV (bad = liquidated, or named in an abuse episode, within the horizon)')
    .requiredOption('--events <file>', 'NDJSON event history (e.g. from `riskloop simulate`)')
    .option('--labels <file>', 'abuse episodes (labels.ndjson from `riskloop simulate`): their accounts count as bad too')
    .option('--every <minutes>', 'minutes between decision times', (v) => Number(v), 5)
    .option('--horizon <minutes>', 'outcome window after each decision, minutes', (v) => Number(v), 30)
    .requiredOption('--out <file>', 'output CSV (account_id, time, the features, bad)')
    .action(async (o) => {
      if (!(o.every > 0) || !(o.horizon > 0)) throw new Error('--every and --horizon must be positive numbers of minutes');
      const events: FeatureInput[] = [];
      const r = await readEvents(o.events, (e) => void events.push(e));
      if (r.rejected) warn([`${r.rejected} record(s) rejected (first: ${r.firstReject})`]);
      const episodes = o.labels
        ? readFileSync(o.labels, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
            const p = LabelEpisode.safeParse(JSON.parse(l));
            if (!p.success) throw new Error(`${o.labels} line ${i + 1}: not a label episode (${p.error.issues[0].message})`);
            return p.data;
          })
        : [];
      const { dataset, decisions } = labelledFeatures(events, { everyMs: o.every * 60_000, horizonMs: o.horizon * 60_000, episodes });
      const names = dataset.features.map((f) => f.name);
      const lines = [['account_id', 'time', ...names, 'bad'].join(',')];
      for (let k = 0; k < dataset.nRows; k++) {
        lines.push([decisions[k].accountId, decisions[k].time, ...dataset.columns.map((c) => (Number.isNaN(c[k]) ? '' : String(c[k]))), dataset.target![k]].join(','));
      }
      writeFileSync(o.out, lines.join('\n') + '\n');
      let bad = 0;
      for (const y of dataset.target!) bad += y;
      process.stderr.write(`riskloop score: ${dataset.nRows} decisions (${bad} bad) × ${names.length} features from ${r.events} events → ${o.out}\n`);
    });
}

export function scoreCommand(): Command {
  return new Command('score')
    .description('Credit and risk scoring: train, predict, evaluate, explain, import and cross-validate models; point-in-time features; product decisions')
    .addCommand(trainCommand())
    .addCommand(predictCommand())
    .addCommand(evalCommand())
    .addCommand(explainCommand())
    .addCommand(importCommand())
    .addCommand(cvCommand())
    .addCommand(aliasCommand())
    .addCommand(decideCommand())
    .addCommand(policySchemaCommand())
    .addCommand(featuresCommand());
}
