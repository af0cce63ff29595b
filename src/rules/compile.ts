import type { Expr, RuleAst } from './ast.js';
import { Analyzer } from './analyze.js';
import { CodeGen } from './codegen.js';
import { Parser } from './parser.js';
import * as helpers from './runtime.js';
import { RecentIds } from '../pipeline/dedupe.js';
import { createGroupState } from './state.js';
import type { Group } from './analyze.js';
import type { FeatureProvider, RuleDiagnostic, RuleInfo } from './types.js';
import type { ExchangeEvent } from '../events/schema.js';
import type { Alert } from '../surveillance/alert.js';
import type { ConditionTrace } from './types.js';

/** What the generated code exposes. */
export interface Program {
  /** rules mode: number of fired rules, their indices in rt.fired; values mode: fills rt.out */
  run(e: ExchangeEvent): number;
  alert(a: Alert): void;
  explain: ((e: ExchangeEvent) => ConditionTrace[])[];
}

/** The per-instance runtime the generated code closes over: fresh state for each engine. */
export interface Runtime {
  fired: Int32Array;
  out: (number | null)[];
  av: unknown[];
  lists: Map<string, Map<string, number>>;
  groups: ReturnType<typeof createGroupState>[];
  seen: (RecentIds | null)[];
  consts: unknown[];
  feat: (name: string, account: string | null, ts: number) => number | null;
  [helper: string]: unknown;
}

/** A compiled plan: the generated factory plus what is needed to instantiate it. */
export class Plan {
  private readonly factory: (rt: Runtime) => Program;
  constructor(
    readonly source: string,
    private readonly groups: Group[],
    private readonly consts: unknown[],
    readonly lists: string[],
    private readonly items: number,
    readonly reads: number,
  ) {
    this.factory = new Function('rt', source) as (rt: Runtime) => Program;
  }

  instantiate(opts: { features?: FeatureProvider; maxKeys?: number; lists?: Map<string, Map<string, number>> }): { program: Program; rt: Runtime } {
    const provider = opts.features;
    const lists = opts.lists ?? new Map<string, Map<string, number>>();
    for (const l of this.lists) if (!lists.has(l)) lists.set(l, new Map());
    const rt: Runtime = {
      ...helpers,
      fired: new Int32Array(Math.max(1, this.items)),
      out: new Array<number | null>(this.items).fill(null),
      av: new Array<unknown>(this.reads).fill(null),
      lists,
      groups: this.groups.map((g) => createGroupState(g.family, g.windowMs, g.minMax, opts.maxKeys ?? 1_000_000)),
      seen: this.groups.map((g) => (g.family === 'alerts' ? new RecentIds(100_000) : null)),
      consts: this.consts,
      feat: (name, account, ts) => {
        if (!provider || account === null) return null;
        const v = provider.feature(name, account, ts);
        return typeof v === 'number' && Number.isFinite(v) ? v : null;
      },
    };
    return { program: this.factory(rt), rt };
  }
}

export interface ParsedRules {
  rules: RuleAst[];
  infos: RuleInfo[];
  errors: RuleDiagnostic[];
  analyzer: Analyzer;
  parser: Parser;
}

/** Parses and checks a rules source; `lists` (when given) are the names list("…") may use. */
export function analyzeRules(source: string, lists?: ReadonlySet<string>): ParsedRules {
  const errors: RuleDiagnostic[] = [];
  const parser = new Parser(source, errors);
  const rules = parser.parseRules();
  const analyzer = new Analyzer(errors, (s) => parser.text(s), lists);
  const infos: RuleInfo[] = [];
  const seen = new Map<string, RuleAst>();
  for (const r of rules) {
    const prev = seen.get(r.name);
    if (prev) errors.push({ message: `duplicate rule name "${r.name}" (first defined at line ${prev.span.line})`, line: r.span.line, column: r.span.column, rule: r.name });
    seen.set(r.name, r);
    const uses = Analyzer.newUses();
    analyzer.checkRule(r, uses);
    infos.push({
      name: r.name,
      ...(r.description !== undefined ? { description: r.description } : {}),
      outcome: r.outcome,
      score: r.score,
      tags: r.tags,
      line: r.span.line,
      column: r.span.column,
      condition: parser.text(r.when.span),
      fields: [...uses.fields].sort(),
      aggregates: [...uses.aggregates],
      lists: [...uses.lists],
      features: [...uses.features],
    });
  }
  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  return { rules, infos, errors, analyzer, parser };
}

export function planRules(p: ParsedRules): Plan {
  const gen = new CodeGen(p.analyzer);
  const src = gen.program(
    p.rules.map((r) => ({ name: r.name, expr: r.when, text: (e: Expr) => p.parser.text(e.span) })),
    'rules',
  );
  return new Plan(src, p.analyzer.groups, gen.consts, [...p.analyzer.lists], p.rules.length, p.analyzer.reads.length);
}

/** Parses each feature expression on its own (positions are within that expression). */
export function planValues(exprs: Record<string, string>): { plan: Plan; names: string[]; errors: RuleDiagnostic[] } {
  const errors: RuleDiagnostic[] = [];
  const names = Object.keys(exprs);
  const items: { name: string; expr: Expr; text: (e: Expr) => string }[] = [];
  // one analyzer across all expressions so identical aggregates share their state
  const shared: { an?: Analyzer } = {};
  for (const name of names) {
    const local: RuleDiagnostic[] = [];
    const parser = new Parser(exprs[name], local);
    const expr = parser.parseStandalone();
    const an = (shared.an ??= new Analyzer(local, (s) => parser.text(s)));
    an.diags = local;
    an.text = (s) => parser.text(s);
    if (expr) {
      an.checkValue(expr, name, Analyzer.newUses());
      items.push({ name, expr, text: (e) => parser.text(e.span) });
    }
    for (const d of local) errors.push({ ...d, rule: name });
  }
  const an = shared.an ?? new Analyzer(errors, () => '');
  const gen = new CodeGen(an);
  const src = errors.length ? 'return {}' : gen.program(items, 'values');
  return { plan: new Plan(src, an.groups, gen.consts, [...an.lists], items.length, an.reads.length), names, errors };
}
