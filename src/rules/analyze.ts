import type { AggKind, Expr, FieldRef, RuleAst, Span } from './ast.js';
import { ALERT_FIELDS, EVENT_TYPES, FUNCTIONS, KNOWN_FIELDS, SPECIAL_FUNCTIONS } from './fields.js';
import type { GroupFamily } from './state.js';
import { suggest } from './suggest.js';
import type { RuleDiagnostic } from './types.js';

/** Static types, only as fine as needed to reject nonsense and pick fast paths. */
export type Ty = 'num' | 'str' | 'bool' | 'null' | 'any' | 'array' | 'list';

/** One set of per-key windows; every aggregate with the same value, key, window and filter shares it. */
export interface Group {
  id: number;
  family: GroupFamily;
  sig: string;
  by: FieldRef[];
  windowMs: number;
  value: Expr | null;
  where: Expr | null;
  minMax: boolean;
}

/** One aggregate value read per event (deduplicated across rules). */
export interface Read {
  id: number;
  group: number;
  agg: AggKind | 'alerts';
  q: number | null;
  text: string;
}

export interface Uses {
  fields: Set<string>;
  aggregates: Set<string>;
  lists: Set<string>;
  features: Set<string>;
}

interface Ctx {
  rule?: string;
  ns: 'event' | 'alert';
  inAgg: boolean;
  uses: Uses;
}

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);
const ALL_FUNCTIONS = [...Object.keys(FUNCTIONS), ...SPECIAL_FUNCTIONS];

/** Checks names and types of parsed rules and plans the aggregate state; collects every error. */
export class Analyzer {
  readonly groups: Group[] = [];
  readonly reads: Read[] = [];
  readonly readOf = new Map<Expr, number>();
  readonly types = new Map<Expr, Ty>();
  readonly lists = new Set<string>();
  private readonly groupBySig = new Map<string, number>();
  private readonly readBySig = new Map<string, number>();

  constructor(
    /** where errors go (feature extraction points it at each expression in turn) */
    public diags: RuleDiagnostic[],
    /** source text of a span */
    public text: (s: Span) => string,
    /** declared list names; undefined skips the check (source-only checking) */
    private readonly knownLists?: ReadonlySet<string>,
  ) {}

  static newUses(): Uses {
    return { fields: new Set(), aggregates: new Set(), lists: new Set(), features: new Set() };
  }

  checkRule(r: RuleAst, uses: Uses): void {
    const ctx: Ctx = { rule: r.name, ns: 'event', inAgg: false, uses };
    const t = this.check(r.when, ctx);
    if (t !== 'bool' && t !== 'any') this.err(r.when.span, `the condition of a rule must be true or false, not a ${tyName(t)}`, ctx);
    if (!Number.isFinite(r.score)) this.err(r.span, 'score must be a finite number', ctx);
  }

  checkValue(e: Expr, name: string, uses: Uses): void {
    const ctx: Ctx = { rule: name, ns: 'event', inAgg: false, uses };
    const t = this.check(e, ctx);
    if (t === 'array' || t === 'list') this.err(e.span, 'a feature must be a value, not a list', ctx);
  }

  private err(span: Span, message: string, ctx: Ctx): void {
    this.diags.push({ message, line: span.line, column: span.column, ...(ctx.rule ? { rule: ctx.rule } : {}) });
  }

  check(e: Expr, ctx: Ctx): Ty {
    const t = this.infer(e, ctx);
    this.types.set(e, t);
    return t;
  }

  private infer(e: Expr, ctx: Ctx): Ty {
    switch (e.kind) {
      case 'num':
        return 'num';
      case 'str':
        return 'str';
      case 'bool':
        return 'bool';
      case 'null':
        return 'null';
      case 'field':
        this.field(e.path, e.span, ctx);
        return 'any';
      case 'array':
        for (const it of e.items) {
          const t = this.check(it, ctx);
          if (it.kind !== 'num' && it.kind !== 'str' && it.kind !== 'bool') this.err(it.span, `list items must be literals (numbers, "strings", true or false), not ${tyName(t)}`, ctx);
        }
        return 'array';
      case 'not': {
        this.boolish(e.arg, ctx, '"not"');
        return 'bool';
      }
      case 'neg':
        this.numish(e.arg, ctx, 'unary "-"');
        return 'num';
      case 'logic':
        this.boolish(e.left, ctx, `"${e.op}"`);
        this.boolish(e.right, ctx, `"${e.op}"`);
        return 'bool';
      case 'cmp': {
        const l = this.valueOf(e.left, ctx, `"${e.op}"`);
        const r = this.valueOf(e.right, ctx, `"${e.op}"`);
        if ((l === 'null' || r === 'null') && e.op !== '==' && e.op !== '!=') this.err(e.span, `only "==" and "!=" can test for null`, ctx);
        if (l === 'bool' && r === 'num' || l === 'num' && r === 'bool') this.err(e.span, 'cannot compare a number with true/false', ctx);
        this.eventType(e.left, e.right, ctx);
        this.eventType(e.right, e.left, ctx);
        return 'bool';
      }
      case 'arith':
        this.numish(e.left, ctx, `"${e.op}"`);
        this.numish(e.right, ctx, `"${e.op}"`);
        return 'num';
      case 'in': {
        this.valueOf(e.left, ctx, '"in"');
        if (e.right.kind === 'array') {
          this.check(e.right, ctx);
          for (const it of e.right.items) this.eventType(e.left, it, ctx);
        } else if (e.right.kind === 'call' && e.right.name === 'list') this.listCall(e.right, ctx);
        else {
          this.check(e.right, ctx);
          this.err(e.right.span, '"in" needs a list: [a, b, …] or list("name")', ctx);
        }
        return 'bool';
      }
      case 'strop':
        this.valueOf(e.left, ctx, `"${e.op}"`);
        this.valueOf(e.right, ctx, `"${e.op}"`);
        return 'bool';
      case 'call':
        return this.call(e, ctx);
      case 'agg':
        return this.agg(e, ctx);
      case 'alerts':
        return this.alerts(e, ctx);
    }
  }

  private field(path: string, span: Span, ctx: Ctx): void {
    const head = path.split('.')[0];
    const known: Iterable<string> = ctx.ns === 'alert' ? ALERT_FIELDS : KNOWN_FIELDS;
    const ok = ctx.ns === 'alert' ? ALERT_FIELDS.has(head) : KNOWN_FIELDS.includes(head);
    if (!ok) {
      const s = suggest(head, known);
      this.err(span, `unknown ${ctx.ns === 'alert' ? 'alert field' : 'field'} "${head}"${s ? `; did you mean "${s}"?` : ''}`, ctx);
    } else if (ctx.ns === 'event') ctx.uses.fields.add(path);
  }

  /** `type == "withdrawl"` is a typo worth catching at compile time. */
  private eventType(field: Expr, lit: Expr, ctx: Ctx): void {
    if (ctx.ns !== 'event' || field.kind !== 'field' || field.path !== 'type' || lit.kind !== 'str') return;
    if (EVENT_TYPE_SET.has(lit.value)) return;
    const s = suggest(lit.value, EVENT_TYPES);
    this.err(lit.span, `unknown event type "${lit.value}"${s ? `; did you mean "${s}"?` : ''}`, ctx);
  }

  private valueOf(e: Expr, ctx: Ctx, what: string): Ty {
    const t = this.check(e, ctx);
    if (t === 'array' || t === 'list') this.err(e.span, `${what} needs a single value here, not a list (use "in" for membership)`, ctx);
    return t;
  }
  private boolish(e: Expr, ctx: Ctx, what: string): void {
    const t = this.check(e, ctx);
    if (t !== 'bool' && t !== 'any') this.err(e.span, `${what} needs a condition (true or false), not a ${tyName(t)}`, ctx);
  }
  private numish(e: Expr, ctx: Ctx, what: string): void {
    const t = this.check(e, ctx);
    if (t !== 'num' && t !== 'any') this.err(e.span, `${what} needs a number, not a ${tyName(t)}`, ctx);
  }

  private listCall(e: Extract<Expr, { kind: 'call' }>, ctx: Ctx): void {
    this.types.set(e, 'list');
    const a = e.args[0];
    if (e.args.length !== 1 || a.kind !== 'str') {
      this.err(e.span, 'list(…) takes one list name in quotes, e.g. list("deny_addresses")', ctx);
      return;
    }
    ctx.uses.lists.add(a.value);
    this.lists.add(a.value);
    if (this.knownLists && !this.knownLists.has(a.value)) {
      const s = suggest(a.value, this.knownLists);
      const declared = [...this.knownLists];
      this.err(a.span, `unknown list "${a.value}"${s ? `; did you mean "${s}"?` : declared.length ? ` (declared: ${declared.join(', ')})` : ' (the policy declares no lists)'}`, ctx);
    }
  }

  private call(e: Extract<Expr, { kind: 'call' }>, ctx: Ctx): Ty {
    if (e.name === 'list') {
      this.err(e.span, 'list(…) can only follow "in", e.g. address in list("deny_addresses")', ctx);
      return 'list';
    }
    if (e.name === 'feature') {
      const a = e.args[0];
      if (e.args.length !== 1 || a.kind !== 'str') this.err(e.span, 'feature(…) takes one feature name in quotes, e.g. feature("graph.linked_accounts")', ctx);
      else ctx.uses.features.add(a.value);
      if (ctx.ns === 'alert') this.err(e.span, 'feature(…) cannot be used in an alerts(…) filter', ctx);
      return 'num';
    }
    const f = FUNCTIONS[e.name];
    if (!f) {
      const s = suggest(e.name, ALL_FUNCTIONS);
      this.err(e.nameSpan, `unknown function "${e.name}"${s ? `; did you mean "${s}"?` : ''} (functions: ${ALL_FUNCTIONS.join(', ')})`, ctx);
      for (const a of e.args) this.check(a, ctx);
      return 'any';
    }
    if (e.args.length !== f.args) this.err(e.span, `${e.name}(…) takes ${f.args} argument${f.args === 1 ? '' : 's'}, got ${e.args.length}`, ctx);
    for (const a of e.args) this.valueOf(a, ctx, `${e.name}(…)`);
    return e.name === 'lower' || e.name === 'upper' ? 'str' : 'num';
  }

  private agg(e: Extract<Expr, { kind: 'agg' }>, ctx: Ctx): Ty {
    if (ctx.inAgg || ctx.ns === 'alert') {
      this.err(e.span, 'aggregates cannot be nested inside another aggregate', ctx);
      return 'num';
    }
    const inner: Ctx = { ...ctx, inAgg: true };
    for (const k of e.by) this.field(k.path, k.span, ctx);
    if (e.value) {
      if (e.agg === 'distinct') this.valueOf(e.value, inner, 'distinct(…)');
      else this.numish(e.value, inner, `${e.agg}(…)`);
    }
    let q: number | null = null;
    if (e.q) {
      this.check(e.q, inner);
      if (e.q.kind !== 'num' || e.q.duration || e.q.value < 0 || e.q.value > 1) this.err(e.q.span, 'the quantile must be a number between 0 and 1, e.g. quantile(amount, 0.99 by account over 1d)', ctx);
      else q = e.q.value;
    }
    if (e.where) this.boolish(e.where, inner, '"where"');
    const family: GroupFamily = e.agg === 'count' ? 'count' : e.agg === 'distinct' ? 'distinct' : e.agg === 'quantile' ? 'quantile' : 'window';
    const sig = [family, e.value ? canon(e.value) : '', e.by.map((k) => k.path).join(','), e.windowMs, e.where ? canon(e.where) : ''].join('|');
    const g = this.group(sig, family, e.by, e.windowMs, e.value, e.where);
    if (e.agg === 'min' || e.agg === 'max') this.groups[g].minMax = true;
    this.read(e, g, e.agg, q, ctx);
    return 'num';
  }

  private alerts(e: Extract<Expr, { kind: 'alerts' }>, ctx: Ctx): Ty {
    if (ctx.inAgg || ctx.ns === 'alert') this.err(e.span, 'alerts(…) cannot be nested inside an aggregate', ctx);
    if (e.by.length !== 1 || (e.by[0].path !== 'account' && e.by[0].path !== 'market')) this.err(e.by[0]?.span ?? e.span, 'alerts(…) are keyed by account or by market', ctx);
    if (e.where) this.boolish(e.where, { ...ctx, ns: 'alert', inAgg: true }, '"where"');
    const sig = ['alerts', '', e.by.map((k) => k.path).join(','), e.windowMs, e.where ? canon(e.where) : ''].join('|');
    const g = this.group(sig, 'alerts', e.by, e.windowMs, null, e.where);
    this.read(e, g, 'alerts', null, ctx);
    if (e.by[0]?.path === 'account' || e.by[0]?.path === 'market') ctx.uses.fields.add(e.by[0].path);
    return 'num';
  }

  private group(sig: string, family: GroupFamily, by: FieldRef[], windowMs: number, value: Expr | null, where: Expr | null): number {
    let g = this.groupBySig.get(sig);
    if (g === undefined) {
      g = this.groups.length;
      this.groups.push({ id: g, family, sig, by, windowMs, value, where, minMax: false });
      this.groupBySig.set(sig, g);
    }
    return g;
  }

  private read(e: Expr, group: number, agg: AggKind | 'alerts', q: number | null, ctx: Ctx): void {
    const sig = `${group}|${agg}|${q ?? ''}`;
    let r = this.readBySig.get(sig);
    if (r === undefined) {
      r = this.reads.length;
      this.reads.push({ id: r, group, agg, q, text: this.text(e.span) });
      this.readBySig.set(sig, r);
    }
    this.readOf.set(e, r);
    ctx.uses.aggregates.add(this.text(e.span));
    const g = this.groups[group];
    for (const k of g.by) ctx.uses.fields.add(k.path);
  }
}

function tyName(t: Ty): string {
  return t === 'num' ? 'number' : t === 'str' ? 'string' : t === 'bool' ? 'condition' : t === 'null' ? 'null' : t === 'array' ? 'list' : t === 'list' ? 'named list' : 'value';
}

/** Canonical text of an expression: equal meaning, equal text (whitespace and parentheses aside). */
export function canon(e: Expr): string {
  switch (e.kind) {
    case 'num':
      return String(e.value);
    case 'str':
      return JSON.stringify(e.value);
    case 'bool':
      return String(e.value);
    case 'null':
      return 'null';
    case 'field':
      return e.path;
    case 'array':
      return `[${e.items.map(canon).join(',')}]`;
    case 'not':
      return `(not ${canon(e.arg)})`;
    case 'neg':
      return `(-${canon(e.arg)})`;
    case 'logic':
    case 'cmp':
    case 'arith':
      return `(${canon(e.left)} ${e.op} ${canon(e.right)})`;
    case 'in':
      return `(${canon(e.left)} ${e.negated ? 'not in' : 'in'} ${canon(e.right)})`;
    case 'strop':
      return `(${canon(e.left)} ${e.op} ${canon(e.right)})`;
    case 'call':
      return `${e.name}(${e.args.map(canon).join(',')})`;
    case 'agg':
      return `${e.agg}(${e.value ? canon(e.value) : ''}${e.q ? ',' + canon(e.q) : ''} by ${e.by.map((k) => k.path).join(',')} over ${e.windowMs}${e.where ? ' where ' + canon(e.where) : ''})`;
    case 'alerts':
      return `alerts(by ${e.by.map((k) => k.path).join(',')} over ${e.windowMs}${e.where ? ' where ' + canon(e.where) : ''})`;
  }
}
