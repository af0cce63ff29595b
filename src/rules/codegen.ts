import type { CmpOp, Expr } from './ast.js';
import type { Analyzer, Group, Read, Ty } from './analyze.js';
import { VIRTUAL_FIELDS } from './fields.js';

/**
 * Generates one straight-line JavaScript function for a whole policy (or feature set): aggregate
 * updates, aggregate reads (each once per event however many rules use it), then every rule's
 * condition. Nothing is interpreted per event. Explain functions, one per rule, re-evaluate each
 * comparison leaf with the generic helpers (same semantics) only when the rule fired.
 */
export interface GenItem {
  name: string;
  expr: Expr;
  /** source text of a span, for condition traces */
  text: (e: Expr) => string;
}

const HELPERS = 'num, eq, ne, lt, le, gt, ge, compare, add, sub, mul, div, neg, inSet, inList, strop, abs, lower, upper, length, featureValue, nn, feat';
const FLIP: Record<CmpOp, CmpOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const JS_OP: Record<CmpOp, string> = { '==': '===', '!=': '!==', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const HELPER_OF: Record<CmpOp, string> = { '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };
const ACCOUNT_JS = VIRTUAL_FIELDS.account.js;

export class CodeGen {
  /** constants the code refers to as K0, K1, … (sets for `in`, arrays for traces) */
  readonly consts: unknown[] = [];
  private temps = 0;
  private obj = 'e';
  private aggRef: (id: number) => string = (id) => this.lazyRead(id);

  constructor(private readonly an: Analyzer) {}

  /**
   * Source of `function (rt) { … return { run, alert, explain } }`. mode 'rules' fills F with fired
   * rule indices; 'values' fills O. The per-event state (the event, cached field values, keys,
   * windows and aggregate values) lives in variables of the module that run() resets, so that
   * keys, windows and aggregates can be small functions computed on first use, which the JIT
   * inlines, and the code stays linear in the size of the policy.
   */
  program(items: GenItem[], mode: 'rules' | 'values'): string {
    const body: string[] = [];
    this.cacheFields = true;
    // feeding: each group whose filter passes and whose key is present takes the event
    const groupCode = this.an.groups.filter((g) => g.family !== 'alerts').map((g) => this.groupUpdate(g));
    const conds = items.map((it, i) => (mode === 'rules' ? `if (${this.bool(it.expr)}) F[n++] = ${i};` : `O[${i}] = featureValue(${this.value(it.expr)});`));
    body.push(...groupCode);
    if (mode === 'rules') {
      body.push('let n = 0;', ...conds);
      // a fired rule's explanation needs every aggregate value, including those short-circuited away
      if (this.an.reads.length) body.push(`if (n !== 0) { ${this.an.reads.map((r) => `AV[${r.id}] = ${this.lazyRead(r.id)};`).join(' ')} }`);
      body.push('return n;');
    } else body.push(...conds, 'return 0;');
    const runTemps = this.takeTemps();
    // the lazily computed pieces, each in its own scope of temporaries
    const fns: string[] = [];
    for (const r of this.an.reads) fns.push(this.fn(`A${r.id}`, () => `q${r.id} ? a${r.id} : (q${r.id} = true, a${r.id} = ${this.readCode(r)})`));
    for (const g of this.an.groups) fns.push(this.fn(`S${g.id}`, () => this.resolveCode(g)));
    for (const [, { i, g }] of this.keys) fns.push(this.fn(`KV${i}`, () => `kv${i} !== undefined ? kv${i} : (kv${i} = ${this.keyCode(g)})`));
    this.cacheFields = false;
    const vars = ['e = null', 't = 0', 'ty = null'];
    const reset: string[] = [];
    for (const i of this.fields.values()) {
      vars.push(`fv${i}`);
      reset.push(`fv${i} = undefined;`);
    }
    for (const { i } of this.keys.values()) {
      vars.push(`kv${i}`);
      reset.push(`kv${i} = undefined;`);
    }
    for (const g of this.an.groups) {
      vars.push(`s${g.id} = null`, `p${g.id} = false`);
      reset.push(`s${g.id} = null; p${g.id} = false;`);
    }
    for (const r of this.an.reads) {
      vars.push(`q${r.id} = false`, `a${r.id} = null`);
      reset.push(`q${r.id} = false;`);
    }
    const out: string[] = [`let ${vars.join(', ')};`, ...fns];
    out.push(`function run(ev) {\n${runTemps}e = ev; t = ev.ts; ty = ev.type ?? null;\n${reset.join(' ')}\n${body.join('\n')}\n}`);
    out.push(this.alertFn());
    // explain functions read the aggregate values the run saved
    this.aggRef = (id) => `AV[${id}]`;
    const explains = mode === 'rules' ? items.map((it) => this.explainFn(it)) : [];
    this.aggRef = (id) => this.lazyRead(id);
    const consts = this.consts.map((_, i) => `const K${i} = rt.consts[${i}];`).join('\n');
    const groups = this.an.groups.map((g) => `const G${g.id} = rt.groups[${g.id}];${g.family === 'alerts' ? ` const R${g.id} = rt.seen[${g.id}];` : ''}`).join('\n');
    const lists = [...this.an.lists].map((l, i) => `const L${i} = rt.lists.get(${JSON.stringify(l)});`).join('\n');
    return `"use strict";\nconst { ${HELPERS} } = rt;\nconst F = rt.fired, O = rt.out, AV = rt.av;\n${consts}\n${groups}\n${lists}\n${out.join('\n')}\nreturn { run, alert, explain: [${explains.join(',\n')}] };`;
  }

  /** `function name() { return <expr>; }` with its own temporaries. */
  private fn(name: string, expr: () => string): string {
    const saved = this.temps;
    this.temps = 0;
    const code = expr();
    const decl = this.takeTemps();
    this.temps = saved;
    return `function ${name}() {\n${decl}return ${code};\n}`;
  }

  /** key tuple signature → its per-event variable index and a group that defines it */
  private readonly keys = new Map<string, { i: number; g: Group }>();

  /** The group's key for this event (a string, or null when a key field is missing), computed once. */
  private keyRef(g: Group): string {
    const sig = g.by.map((k) => k.path).join(',');
    let k = this.keys.get(sig);
    if (k === undefined) {
      k = { i: this.keys.size, g };
      this.keys.set(sig, k);
    }
    return `KV${k.i}()`;
  }

  /** The group's window for this event's key (null if none), looked up at most once per event. */
  private resolveCode(g: Group): string {
    const id = g.id;
    const x = this.tmp();
    return `p${id} ? s${id} : (p${id} = true, s${id} !== null ? s${id} : (${x} = ${this.keyRef(g)}) === null ? null : (s${id} = G${id}.peek(${x}, t) ?? null) === null ? null : (s${id}.advance(t), s${id}))`;
  }

  /** An aggregate value, computed on first use in this event (rules usually test the event type first). */
  private lazyRead(id: number): string {
    return `A${id}()`;
  }

  private takeTemps(): string {
    const n = this.temps;
    this.temps = 0;
    return n ? `let ${Array.from({ length: n }, (_, i) => `x${i}`).join(', ')};\n` : '';
  }
  private tmp(): string {
    return `x${this.temps++}`;
  }
  private konst(v: unknown): string {
    this.consts.push(v);
    return `K${this.consts.length - 1}`;
  }
  private ty(e: Expr): Ty {
    return this.an.types.get(e) ?? 'any';
  }

  private keyCode(g: Group): string {
    if (g.by.length === 1) {
      const x = this.tmp();
      return `((${x} = ${this.fieldCode(g.by[0].path)}) === null ? null : typeof ${x} === "string" ? ${x} : String(${x}))`;
    }
    const xs = g.by.map(() => this.tmp());
    return `(${g.by.map((k, i) => `(${xs[i]} = ${this.fieldCode(k.path)}) === null`).join(' || ')} ? null : ${xs.map((x) => `String(${x})`).join(' + "\\u0001" + ')})`;
  }

  private groupUpdate(g: Group): string {
    const id = g.id;
    const k = this.tmp();
    let feed: string;
    if (g.family === 'count') feed = `s${id} = G${id}.get(${k}, t); s${id}.add(t, 1);`;
    else if (g.family === 'distinct') {
      const v = this.tmp();
      feed = `if ((${v} = ${this.value(g.value!)}) !== null) { s${id} = G${id}.get(${k}, t); s${id}.add(t, typeof ${v} === "string" ? ${v} : String(${v})); }`;
    } else {
      const v = this.tmp();
      const val = this.ty(g.value!) === 'num' ? this.value(g.value!) : `num(${this.value(g.value!)})`;
      feed = `if ((${v} = ${val}) !== null) { s${id} = G${id}.get(${k}, t); s${id}.add(t, ${v}); }`;
    }
    const keyed = `if ((${k} = ${this.keyRef(g)}) !== null) { ${feed} }`;
    return `${g.where ? `if (${this.bool(g.where)}) { ${keyed} }` : keyed}\nG${id}.sweep(t);`;
  }

  private readCode(r: Read): string {
    const g = this.an.groups[r.group];
    const x = this.tmp();
    const w = `(${x} = S${g.id}()) === null`;
    switch (r.agg) {
      case 'count':
      case 'alerts':
        return `(${w} ? (${this.keyRef(g)} === null ? null : 0) : ${x}.count)`;
      case 'sum':
        return `(${w} ? (${this.keyRef(g)} === null ? null : 0) : ${x}.sum)`;
      case 'distinct':
        return `(${w} ? (${this.keyRef(g)} === null ? null : 0) : ${x}.size)`;
      case 'avg':
        return `(${w} ? null : nn(${x}.mean()))`;
      case 'min':
        return `(${w} ? null : nn(${x}.min()))`;
      case 'max':
        return `(${w} ? null : nn(${x}.max()))`;
      case 'quantile':
        return `(${w} ? null : nn(${x}.quantile(${r.q})))`;
    }
  }

  private alertFn(): string {
    const parts: string[] = [];
    this.obj = 'a';
    for (const g of this.an.groups) {
      if (g.family !== 'alerts') continue;
      const keys = g.by[0].path === 'market' ? 'a.markets' : 'a.accounts';
      const feed = `if (!R${g.id}.seen(a.id)) { const ks = ${keys}; for (let i = 0; i < ks.length; i++) G${g.id}.get(ks[i], t).add(t, 1); }`;
      parts.push(g.where ? `if (${this.bool(g.where)}) { ${feed} }` : feed);
      parts.push(`G${g.id}.sweep(t);`);
    }
    this.obj = 'e';
    const temps = this.takeTemps();
    return `function alert(a) {\n${temps}const t = a.updatedAt;\n${parts.join('\n')}\n}`;
  }

  /** field path → index of its per-event variable in run (each field read once per event: events have many shapes, so every read is a megamorphic load) */
  private readonly fields = new Map<string, number>();
  private cacheFields = false;

  private fieldCode(path: string): string {
    if (this.cacheFields && this.obj === 'e') {
      if (path === 'type') return 'ty';
      let i = this.fields.get(path);
      if (i === undefined) {
        i = this.fields.size;
        this.fields.set(path, i);
      }
      this.cacheFields = false;
      const code = this.rawField(path);
      this.cacheFields = true;
      return `(fv${i} !== undefined ? fv${i} : (fv${i} = ${code}))`;
    }
    return this.rawField(path);
  }

  private rawField(path: string): string {
    const o = this.obj;
    if (o === 'e' && VIRTUAL_FIELDS[path]) return VIRTUAL_FIELDS[path].js;
    const segs = path.split('.');
    if (segs.length === 1) return `(${o}[${JSON.stringify(path)}] ?? null)`;
    // nested: null as soon as a step is missing
    let code = `${o}[${JSON.stringify(segs[0])}]`;
    for (let i = 1; i < segs.length; i++) {
      const x = this.tmp();
      code = `((${x} = ${code}) == null ? null : ${x}[${JSON.stringify(segs[i])}])`;
    }
    return `(${code} ?? null)`;
  }

  /** JS expression for the value of e (number, string, boolean or null). */
  value(e: Expr): string {
    switch (e.kind) {
      case 'num':
        return e.value < 0 ? `(${e.value})` : String(e.value);
      case 'str':
        return JSON.stringify(e.value);
      case 'bool':
        return String(e.value);
      case 'null':
        return 'null';
      case 'field':
        return this.fieldCode(e.path);
      case 'neg':
        return `neg(${this.value(e.arg)})`;
      case 'arith': {
        const f = e.op === '+' ? 'add' : e.op === '-' ? 'sub' : e.op === '*' ? 'mul' : 'div';
        return `${f}(${this.value(e.left)}, ${this.value(e.right)})`;
      }
      case 'call':
        if (e.name === 'feature') return `feat(${JSON.stringify((e.args[0] as { value: string }).value)}, ${ACCOUNT_JS}, e.ts)`;
        return `${e.name}(${e.args.map((a) => this.value(a)).join(', ')})`;
      case 'agg':
      case 'alerts':
        return this.aggRef(this.an.readOf.get(e)!);
      case 'array':
        return this.konst(e.items.map(literal));
      default:
        return this.bool(e);
    }
  }

  /** JS expression that is exactly true or false. */
  bool(e: Expr): string {
    switch (e.kind) {
      case 'bool':
        return String(e.value);
      case 'not':
        return `!${this.bool(e.arg)}`;
      case 'logic':
        return `(${this.bool(e.left)} ${e.op === 'and' ? '&&' : '||'} ${this.bool(e.right)})`;
      case 'cmp':
        return this.cmp(e.op, e.left, e.right);
      case 'in':
        return this.inCode(e);
      case 'strop':
        return `strop(${JSON.stringify(e.op)}, ${this.value(e.left)}, ${this.value(e.right)})`;
      default:
        return `(${this.value(e)} === true)`;
    }
  }

  private cmp(op: CmpOp, l: Expr, r: Expr): string {
    if (l.kind === 'null' || r.kind === 'null') {
      const v = l.kind === 'null' ? r : l;
      if (v.kind === 'null') return op === '==' ? 'true' : 'false';
      return `(${this.value(v)} ${op === '==' ? '==' : '!='} null)`;
    }
    if (isLiteral(l) && !isLiteral(r)) return this.cmp(FLIP[op], r, l);
    // a non-numeric string literal can only equal that very string
    if (r.kind === 'str' && Number.isNaN(Number(r.value)) && (op === '==' || op === '!=')) {
      const lit = JSON.stringify(r.value);
      if (op === '==') return `(${this.value(l)} === ${lit})`;
      const x = this.tmp();
      return `((${x} = ${this.value(l)}) !== null && ${x} !== ${lit})`;
    }
    if (r.kind === 'num') {
      const x = this.tmp();
      const lv = this.ty(l) === 'num' ? this.value(l) : `num(${this.value(l)})`;
      return `((${x} = ${lv}) !== null && ${x} ${JS_OP[op]} ${this.value(r)})`;
    }
    return `${HELPER_OF[op]}(${this.value(l)}, ${this.value(r)})`;
  }

  private inCode(e: Extract<Expr, { kind: 'in' }>): string {
    let test: (v: string) => string;
    if (e.right.kind === 'call') {
      const name = (e.right.args[0] as { value: string }).value;
      const idx = [...this.an.lists].indexOf(name);
      test = (v) => `inList(${v}, L${idx}, t)`;
    } else {
      const items = (e.right as Extract<Expr, { kind: 'array' }>).items.map(literal);
      const strs = items.filter((v) => typeof v === 'string' && Number.isNaN(Number(v)));
      if (strs.length === items.length && items.length <= 6) {
        test = (v) => (items.length === 0 ? 'false' : `(${items.map((s) => `${v} === ${JSON.stringify(s)}`).join(' || ')})`);
      } else {
        const set = this.konst(new Set(items));
        const nums = this.konst(new Set(items.map((v) => (typeof v === 'boolean' ? null : Number(v))).filter((n): n is number => n !== null && Number.isFinite(n))));
        test = (v) => `inSet(${v}, ${set}, ${nums})`;
      }
    }
    const x = this.tmp();
    return e.negated ? `((${x} = ${this.value(e.left)}) !== null && !${test(x)})` : `((${x} = ${this.value(e.left)}), ${test(x)})`;
  }

  // ------------------------------------------------------------ explanations
  private explainFn(it: GenItem): string {
    const leaves: string[] = [];
    const visit = (e: Expr): void => {
      switch (e.kind) {
        case 'logic':
          visit(e.left);
          visit(e.right);
          return;
        case 'not':
          visit(e.arg);
          return;
        case 'bool':
          return;
        case 'cmp': {
          let { left: l, right: r, op } = e;
          if (isLiteral(l) && !isLiteral(r)) [l, r, op] = [r, l, FLIP[op]];
          leaves.push(this.trace(it.text(e), it.text(l), this.value(l), op, this.value(r), this.bool(e)));
          return;
        }
        case 'in': {
          const th = e.right.kind === 'call' ? JSON.stringify(`list(${JSON.stringify((e.right.args[0] as { value: string }).value)})`) : this.konst((e.right as Extract<Expr, { kind: 'array' }>).items.map(literal));
          leaves.push(this.trace(it.text(e), it.text(e.left), this.value(e.left), e.negated ? 'not in' : 'in', th, this.bool(e)));
          return;
        }
        case 'strop':
          leaves.push(this.trace(it.text(e), it.text(e.left), this.value(e.left), e.op, this.value(e.right), this.bool(e)));
          return;
        default:
          leaves.push(this.trace(it.text(e), it.text(e), this.value(e), '==', 'true', this.bool(e)));
      }
    };
    visit(it.expr);
    const temps = this.takeTemps();
    return `function (e) {\n${temps}const t = e.ts;\nreturn [${leaves.join(',\n')}];\n}`;
  }

  private trace(text: string, subject: string, actual: string, op: string, threshold: string, passed: string): string {
    return `{ text: ${JSON.stringify(text)}, subject: ${JSON.stringify(subject)}, actual: ${actual}, op: ${JSON.stringify(op)}, threshold: ${threshold}, passed: ${passed} }`;
  }
}

function isLiteral(e: Expr): boolean {
  return e.kind === 'num' || e.kind === 'str' || e.kind === 'bool';
}
function literal(e: Expr): number | string | boolean | null {
  return e.kind === 'num' || e.kind === 'str' || e.kind === 'bool' ? e.value : null;
}
