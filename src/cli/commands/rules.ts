import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { replay } from '../../pipeline/replay.js';
import type { Operator } from '../../pipeline/types.js';
import type { ExchangeEvent } from '../../events/schema.js';
import { openInput, readLines } from '../../sources/lines.js';
import { NdjsonWriter } from '../../sinks/ndjson-writer.js';
import { Alert } from '../../surveillance/alert.js';
import { checkRules, compilePolicy, loadPolicyFile, RuleCompileError, type Decision, type Outcome, type PolicyDoc, type RuleDiagnostic, OUTCOMES } from '../../rules/index.js';
import { rulesPositionMapper } from '../../rules/locate.js';
import { progressBar } from '../progress.js';

/** Exit code 1 with a message, not a stack trace. */
class CliError extends Error {}

interface FileCheck {
  file: string;
  ok: boolean;
  errors: RuleDiagnostic[];
  rules: { name: string; outcome: Outcome; score: number; line: number }[];
}

/** Loads and compiles a policy file; diagnostics carry file positions where they can be mapped. */
function checkFile(file: string): FileCheck & { doc?: PolicyDoc } {
  let doc: PolicyDoc;
  try {
    doc = loadPolicyFile(file);
  } catch (err) {
    if (err instanceof RuleCompileError) return { file, ok: false, errors: err.diagnostics, rules: [] };
    const msg = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    return { file, ok: false, errors: [{ message: msg, line: 1, column: 1 }], rules: [] };
  }
  const map = rulesPositionMapper(file) ?? ((d: RuleDiagnostic) => ({ ...d, message: `${d.message} (position within "rules")` }));
  const src = checkRules(doc.rules);
  const rules = src.rules.map((r) => ({ name: r.name, outcome: r.outcome, score: r.score, line: map({ message: '', line: r.line, column: r.column }).line }));
  let errors = src.errors;
  if (errors.length === 0) {
    try {
      compilePolicy(doc); // lists and the document itself
    } catch (err) {
      if (!(err instanceof RuleCompileError)) throw err;
      errors = err.diagnostics;
    }
  }
  return { file, ok: errors.length === 0, errors: errors.map(map), rules, doc };
}

function formatDiag(file: string, d: RuleDiagnostic): string {
  return `${file}:${d.line}:${d.column}: ${d.message}${d.rule ? ` [rule ${d.rule}]` : ''}`;
}

/** Feeds alerts to the engine in event time: every alert transition at or before an event goes first. */
class AlertFeeder implements Operator {
  private i = 0;
  constructor(private readonly alerts: Alert[], private readonly target: { onAlert(a: Alert): void }) {}
  onEvent(e: ExchangeEvent): void {
    const a = this.alerts;
    while (this.i < a.length && a[this.i].updatedAt <= e.ts) this.target.onAlert(a[this.i++]);
  }
}

async function readAlertTransitions(path: string): Promise<Alert[]> {
  const out: Alert[] = [];
  for await (const batch of readLines(await openInput(path))) {
    for (let i = 0; i < batch.lines.length; i++) {
      const l = batch.lines[i].trim();
      if (!l) continue;
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch (err) {
        throw new CliError(`${path}:${batch.firstLine + i}: invalid JSON: ${(err as Error).message}`);
      }
      const r = Alert.safeParse(v);
      if (!r.success) throw new CliError(`${path}:${batch.firstLine + i}: not an alert: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
      out.push(r.data);
    }
  }
  return out.sort((a, b) => a.updatedAt - b.updatedAt);
}

export interface RulesTestSummary {
  policy: string;
  events: number;
  deadLetters: number;
  alerts: number;
  decisions: Record<Outcome, number>;
  byRule: { rule: string; outcome: Outcome; fired: number }[];
  examples: { rule: string; decision: string; eventId: string; outcome: Outcome; score: number; explanation: string }[];
}

export function rulesCommand(): Command {
  const cmd = new Command('rules').description('Check rule files and test policies on event streams (see docs/rules.md)');
  cmd
    .command('check')
    .description('Parse and compile policy files (.rules, .yaml/.yml, .json); print file:line:col: message for each error')
    .argument('<files...>', 'policy files')
    .option('--json', 'print the result as JSON')
    .action((files: string[], o: { json?: boolean }) => {
      const results = files.map(checkFile);
      if (o.json) process.stdout.write(JSON.stringify(results.map(({ doc: _doc, ...r }) => r), null, 2) + '\n');
      else {
        for (const r of results) {
          if (r.ok) process.stdout.write(`${r.file}: ok, ${r.rules.length} rule${r.rules.length === 1 ? '' : 's'} (${r.rules.map((x) => x.name).join(', ')})\n`);
          else for (const d of r.errors) process.stderr.write(formatDiag(r.file, d) + '\n');
        }
      }
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });
  cmd
    .command('test')
    .description('Stream events through a policy and summarise its decisions: counts by outcome and rule, examples with explanations')
    .argument('<policy>', 'policy file (.rules, .yaml/.yml, .json)')
    .requiredOption('--events <files...>', 'event files (canonical NDJSON or any replay format; .gz ok)')
    .option('--alerts <file>', 'surveillance alerts NDJSON (as written by replay --alerts) feeding alerts(…)')
    .option('--out <file>', 'write every non-allow decision as NDJSON (.gz compresses)')
    .option('--examples <n>', 'examples per rule', (v) => parseInt(v, 10), 2)
    .option('--policy-version <n>', 'policy version stamped on decisions', (v) => parseInt(v, 10))
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'no progress bar')
    .action(async (file: string, o: { events: string[]; alerts?: string; out?: string; examples: number; policyVersion?: number; json?: boolean; quiet?: boolean }) => {
      try {
        await runTest(file, o);
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        process.stderr.write(`riskloop rules test: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
  return cmd;
}

async function runTest(file: string, o: { events: string[]; alerts?: string; out?: string; examples: number; policyVersion?: number; json?: boolean; quiet?: boolean }): Promise<void> {
  const checked = checkFile(file);
  if (!checked.ok || !checked.doc) {
    for (const d of checked.errors) process.stderr.write(formatDiag(file, d) + '\n');
    process.exitCode = 1;
    return;
  }
  const policy = compilePolicy(checked.doc);
  const fired = new Map<string, number>();
  const examples = new Map<string, RulesTestSummary['examples']>();
  const writer = o.out ? new NdjsonWriter(o.out) : undefined;
  const engine = policy.createEngine({
    ...(o.policyVersion !== undefined ? { version: o.policyVersion } : {}),
    onDecision: (d: Decision) => {
      writer?.write(d);
      for (const f of d.fired) {
        fired.set(f.rule, (fired.get(f.rule) ?? 0) + 1);
        let ex = examples.get(f.rule);
        if (!ex) examples.set(f.rule, (ex = []));
        if (ex.length < o.examples) ex.push({ rule: f.rule, decision: d.id, eventId: d.eventId, outcome: d.outcome, score: d.score, explanation: d.explanation });
      }
    },
  });
  const alerts = o.alerts ? await readAlertTransitions(o.alerts) : [];
  const operators: Operator[] = [];
  if (alerts.length) operators.push(new AlertFeeder(alerts, engine));
  operators.push(engine);
  let total = 0;
  for (const f of o.events) {
    try {
      if (f !== '-') total += (await stat(f)).size;
    } catch {
      throw new CliError(`${f}: no such file`);
    }
  }
  const bar = progressBar(total, 'rules test', { quiet: o.quiet, unit: 'bytes' });
  const p = await replay(
    o.events.map((path) => ({ path })),
    { operators, onProgress: (pr) => bar.update(Math.min(pr.bytes, total), { detail: `${pr.events} events` }) },
  );
  bar.stop();
  await writer?.close();
  const summary: RulesTestSummary = {
    policy: policy.name,
    events: p.events,
    deadLetters: p.deadLetters,
    alerts: alerts.length,
    decisions: { ...engine.counts },
    byRule: policy.rules.map((r) => ({ rule: r.name, outcome: r.outcome, fired: fired.get(r.name) ?? 0 })),
    examples: policy.rules.flatMap((r) => examples.get(r.name) ?? []),
  };
  process.stdout.write((o.json ? JSON.stringify(summary, null, 2) : formatTestSummary(summary)) + '\n');
}

export function formatTestSummary(s: RulesTestSummary): string {
  const lines = [`policy ${s.policy}: ${s.events} events${s.deadLetters ? `, ${s.deadLetters} dead letters` : ''}${s.alerts ? `, ${s.alerts} alert transitions` : ''}`, ''];
  lines.push('outcome   decisions', '--------  ---------');
  for (const o of OUTCOMES) lines.push(`${o.padEnd(8)}  ${String(s.decisions[o]).padStart(9)}`);
  lines.push('', 'rule'.padEnd(32) + '  outcome  fired', '-'.repeat(32) + '  -------  -----');
  for (const r of s.byRule) lines.push(`${r.rule.padEnd(32)}  ${r.outcome.padEnd(7)}  ${String(r.fired).padStart(5)}`);
  if (s.examples.length) {
    lines.push('', 'examples');
    for (const e of s.examples) lines.push(`  [${e.rule}] ${e.explanation}`);
  }
  return lines.join('\n');
}
