import { tokenize, type Token } from './lexer.js';
import { AGG_KINDS, type AggKind, type CmpOp, type Expr, type FieldRef, type RuleAst, type Span } from './ast.js';
import { OUTCOMES, type Outcome, type RuleDiagnostic } from './types.js';
import { suggest } from './suggest.js';

class ParseError extends Error {
  constructor(readonly tok: Token, message: string) {
    super(message);
  }
}

const CMP_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);
/** Words that end an expression or belong to the rule syntax; never field names in an expression. */
const RESERVED = new Set(['rule', 'when', 'then', 'and', 'or', 'not', 'in', 'by', 'over', 'where', 'contains', 'startsWith', 'endsWith', 'true', 'false', 'null']);

/** Recursive descent with precedence climbing; one diagnostic per syntax error, then resynchronises at the next `rule`. */
export class Parser {
  private toks: Token[];
  private p = 0;
  private rule?: string;

  constructor(private readonly src: string, private readonly diags: RuleDiagnostic[]) {
    this.toks = tokenize(src, diags);
  }

  /** A rules source: one or more rules. */
  parseRules(): RuleAst[] {
    const rules: RuleAst[] = [];
    if (this.peek().kind === 'eof') {
      this.diags.push({ message: 'no rules: expected `rule <name> when <condition> then <outcome>`', line: 1, column: 1 });
      return rules;
    }
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      this.rule = undefined;
      try {
        if (!this.isWord(t, 'rule')) throw new ParseError(t, `expected "rule", found ${describe(t)}`);
        rules.push(this.parseRule());
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.diags.push({ message: e.message, line: e.tok.line, column: e.tok.column, ...(this.rule ? { rule: this.rule } : {}) });
        // resynchronise: skip to the next `rule` that starts a line
        this.p++;
        while (this.peek().kind !== 'eof' && !(this.isWord(this.peek(), 'rule') && this.startsLine(this.peek()))) this.p++;
      }
    }
    return rules;
  }

  /** A single expression (feature extraction). */
  parseStandalone(): Expr | null {
    try {
      const e = this.parseExpr(0);
      const t = this.peek();
      if (t.kind !== 'eof') throw new ParseError(t, `unexpected ${describe(t)} after the expression`);
      return e;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.diags.push({ message: e.message, line: e.tok.line, column: e.tok.column });
      return null;
    }
  }

  private parseRule(): RuleAst {
    const kw = this.next();
    const nameTok = this.next();
    if (nameTok.kind !== 'ident' || RESERVED.has(nameTok.text) || nameTok.text.includes('.')) throw new ParseError(nameTok, `expected a rule name after "rule", found ${describe(nameTok)}`);
    this.rule = nameTok.text;
    let description: string | undefined;
    if (this.peek().kind === 'string') description = this.next().text;
    this.expectWord('when', 'after the rule name' + (description !== undefined ? ' and description' : ''));
    const when = this.parseExpr(0);
    const then = this.peek();
    if (!this.isWord(then, 'then')) throw new ParseError(then, `expected "then" or an operator, found ${describe(then)}`);
    this.p++;
    const oTok = this.next();
    let outcome = oTok.text as Outcome;
    if (oTok.kind !== 'ident' || !(OUTCOMES as readonly string[]).includes(oTok.text)) {
      const s = oTok.kind === 'ident' ? suggest(oTok.text, OUTCOMES) : undefined;
      const message = `expected an outcome (${OUTCOMES.join(', ')}), found ${describe(oTok)}${s ? `; did you mean "${s}"?` : ''}`;
      // a misspelt outcome need not hide the errors in the condition: report it and go on
      if (oTok.kind !== 'ident' || RESERVED.has(oTok.text)) throw new ParseError(oTok, message);
      this.diags.push({ message, line: oTok.line, column: oTok.column, rule: this.rule });
      outcome = (s as Outcome | undefined) ?? 'review';
    }
    let score = 0;
    const tags: string[] = [];
    for (;;) {
      const t = this.peek();
      if (this.isWord(t, 'score')) {
        this.p++;
        let neg = false;
        if (this.peek().kind === 'op' && this.peek().text === '-') {
          this.p++;
          neg = true;
        }
        const s = this.next();
        if (s.kind !== 'number') throw new ParseError(s, `expected a number after "score", found ${describe(s)}`);
        score = neg ? -s.value : s.value;
      } else if (this.isWord(t, 'tags')) {
        this.p++;
        for (;;) {
          const g = this.next();
          if ((g.kind !== 'ident' || RESERVED.has(g.text)) && g.kind !== 'string') throw new ParseError(g, `expected a tag (a name or "string"), found ${describe(g)}`);
          tags.push(g.text);
          if (this.peek().kind === 'op' && this.peek().text === ',') this.p++;
          else break;
        }
      } else break;
    }
    const end = this.peek();
    if (end.kind !== 'eof' && !this.isWord(end, 'rule')) throw new ParseError(end, `unexpected ${describe(end)} after the outcome (expected "score", "tags" or the next "rule")`);
    return { name: nameTok.text, ...(description !== undefined ? { description } : {}), when, outcome, score, tags, span: this.span(kw, this.toks[this.p - 1]) };
  }

  // precedence: or 1, and 2, not 3 (prefix), comparison/in/contains 4, + - 5, * / 6, unary - 7
  private parseExpr(minPrec: number): Expr {
    let left = this.parseUnary(minPrec);
    for (;;) {
      const t = this.peek();
      let prec = 0;
      if (this.isWord(t, 'or')) prec = 1;
      else if (this.isWord(t, 'and')) prec = 2;
      else if ((t.kind === 'op' && CMP_OPS.has(t.text)) || this.isWord(t, 'in') || this.isWord(t, 'contains') || this.isWord(t, 'startsWith') || this.isWord(t, 'endsWith') || (this.isWord(t, 'not') && this.isWord(this.peek(1), 'in'))) prec = 4;
      else if (t.kind === 'op' && (t.text === '+' || t.text === '-')) prec = 5;
      else if (t.kind === 'op' && (t.text === '*' || t.text === '/')) prec = 6;
      if (prec === 0 || prec <= minPrec) return left;
      this.p++;
      if (prec === 1 || prec === 2) {
        const right = this.parseExpr(prec);
        left = { kind: 'logic', op: prec === 1 ? 'or' : 'and', left, right, span: this.join(left.span, right.span) };
      } else if (prec === 4) {
        let negated = false;
        let word = t.text;
        if (t.kind === 'ident' && t.text === 'not') {
          this.p++;
          negated = true;
          word = 'in';
        }
        const right = this.parseExpr(4);
        const span = this.join(left.span, right.span);
        if (t.kind === 'op') left = { kind: 'cmp', op: t.text as CmpOp, left, right, span };
        else if (word === 'in') left = { kind: 'in', negated, left, right, span };
        else left = { kind: 'strop', op: word as 'contains' | 'startsWith' | 'endsWith', left, right, span };
        const after = this.peek();
        if ((after.kind === 'op' && CMP_OPS.has(after.text)) || this.isWord(after, 'in')) throw new ParseError(after, `comparisons do not chain; use "and" between them`);
      } else {
        const right = this.parseExpr(prec);
        left = { kind: 'arith', op: t.text as '+' | '-' | '*' | '/', left, right, span: this.join(left.span, right.span) };
      }
    }
  }

  private parseUnary(minPrec: number): Expr {
    const t = this.peek();
    if (this.isWord(t, 'not')) {
      this.p++;
      const arg = this.parseExpr(Math.max(minPrec, 3));
      return { kind: 'not', arg, span: this.join(this.span(t, t), arg.span) };
    }
    if (t.kind === 'op' && t.text === '-') {
      this.p++;
      const arg = this.parseExpr(6);
      if (arg.kind === 'num') return { ...arg, value: -arg.value, span: this.join(this.span(t, t), arg.span) };
      return { kind: 'neg', arg, span: this.join(this.span(t, t), arg.span) };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.next();
    const span = this.span(t, t);
    switch (t.kind) {
      case 'number':
        return { kind: 'num', value: t.value, span };
      case 'duration':
        return { kind: 'num', value: t.value, span, duration: true };
      case 'string':
        return { kind: 'str', value: t.text, span };
      case 'op':
        if (t.text === '(') {
          const e = this.parseExpr(0);
          const close = this.expectOp(')', 'to close "("');
          return { ...e, span: this.span(t, close) };
        }
        if (t.text === '[') {
          const items: Expr[] = [];
          if (!this.atOp(']')) {
            for (;;) {
              items.push(this.parseExpr(4));
              if (this.atOp(',')) this.p++;
              else break;
            }
          }
          const close = this.expectOp(']', 'to close the list');
          return { kind: 'array', items, span: this.span(t, close) };
        }
        throw new ParseError(t, `expected a value, found ${describe(t)}`);
      case 'ident': {
        if (t.text === 'true' || t.text === 'false') return { kind: 'bool', value: t.text === 'true', span };
        if (t.text === 'null') return { kind: 'null', span };
        if (RESERVED.has(t.text)) throw new ParseError(t, `expected a value, found ${describe(t)}`);
        if (this.atOp('(')) return this.parseCall(t);
        return { kind: 'field', path: t.text, span };
      }
      default:
        throw new ParseError(t, `expected a value, found ${describe(t)}`);
    }
  }

  private parseCall(nameTok: Token): Expr {
    this.p++; // (
    const name = nameTok.text;
    const nameSpan = this.span(nameTok, nameTok);
    if ((AGG_KINDS as readonly string[]).includes(name) || name === 'alerts') {
      let value: Expr | null = null;
      let q: Expr | null = null;
      if (name !== 'count' && name !== 'alerts') {
        if (this.isWord(this.peek(), 'by')) throw new ParseError(this.peek(), `${name}(…) needs a value before "by", e.g. ${name}(amount by account over 1h)`);
        value = this.parseExpr(0);
        if (name === 'quantile') {
          this.expectOp(',', 'between the value and the quantile in quantile(x, q by …)');
          q = this.parseExpr(0);
        }
      }
      this.expectWord('by', `in ${name}(…): ${name}(${name === 'count' || name === 'alerts' ? '' : name === 'quantile' ? 'x, q ' : 'x '}by KEY over WINDOW [where CONDITION])`);
      const by = this.parseKey();
      this.expectWord('over', `after the key in ${name}(…)`);
      const w = this.next();
      if (w.kind !== 'duration') throw new ParseError(w, `expected a window duration like 10m or 1h after "over", found ${describe(w)}`);
      if (!(w.value > 0)) throw new ParseError(w, 'the window must be longer than 0');
      let where: Expr | null = null;
      if (this.isWord(this.peek(), 'where')) {
        this.p++;
        where = this.parseExpr(0);
      }
      const close = this.expectOp(')', `to close ${name}(…)`);
      const span = this.span(nameTok, close);
      if (name === 'alerts') return { kind: 'alerts', by, windowMs: w.value, where, span };
      return { kind: 'agg', agg: name as AggKind, value, q, by, windowMs: w.value, where, span };
    }
    if (this.isWord(this.peek(), 'by')) {
      const s = suggest(name, [...AGG_KINDS, 'alerts']);
      throw new ParseError(nameTok, `unknown aggregate "${name}"${s ? `; did you mean "${s}"?` : ''} (aggregates: ${[...AGG_KINDS, 'alerts'].join(', ')})`);
    }
    const args: Expr[] = [];
    if (!this.atOp(')')) {
      for (;;) {
        args.push(this.parseExpr(0));
        if (this.atOp(',')) this.p++;
        else break;
      }
    }
    const close = this.expectOp(')', `to close ${name}(…)`);
    return { kind: 'call', name, args, span: this.span(nameTok, close), nameSpan };
  }

  private parseKey(): FieldRef[] {
    const t = this.next();
    if (t.kind === 'ident' && !RESERVED.has(t.text)) return [{ path: t.text, span: this.span(t, t) }];
    if (t.kind === 'op' && t.text === '(') {
      const keys: FieldRef[] = [];
      for (;;) {
        const k = this.next();
        if (k.kind !== 'ident' || RESERVED.has(k.text)) throw new ParseError(k, `expected a field name in the key tuple, found ${describe(k)}`);
        keys.push({ path: k.text, span: this.span(k, k) });
        if (this.atOp(',')) this.p++;
        else break;
      }
      this.expectOp(')', 'to close the key tuple');
      return keys;
    }
    throw new ParseError(t, `expected a key after "by" (a field like account, or a tuple like (account, market)), found ${describe(t)}`);
  }

  private peek(k = 0): Token {
    return this.toks[Math.min(this.p + k, this.toks.length - 1)];
  }
  private next(): Token {
    const t = this.toks[this.p];
    if (t.kind !== 'eof') this.p++;
    return t;
  }
  private isWord(t: Token, w: string): boolean {
    return t.kind === 'ident' && t.text === w;
  }
  private atOp(op: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === op;
  }
  private expectOp(op: string, why: string): Token {
    const t = this.next();
    if (t.kind !== 'op' || t.text !== op) throw new ParseError(t, `expected "${op}" ${why}, found ${describe(t)}`);
    return t;
  }
  private expectWord(w: string, why: string): Token {
    const t = this.next();
    if (!this.isWord(t, w)) throw new ParseError(t, `expected "${w}" ${why}, found ${describe(t)}`);
    return t;
  }
  private startsLine(t: Token): boolean {
    const prev = this.toks[this.toks.indexOf(t) - 1];
    return !prev || prev.line < t.line;
  }
  private span(a: Token, b: Token): Span {
    return { line: a.line, column: a.column, start: a.start, end: b.end };
  }
  private join(a: Span, b: Span): Span {
    return { line: a.line, column: a.column, start: a.start, end: b.end };
  }
  /** Source text of a span, whitespace collapsed. */
  text(s: Span): string {
    return this.src.slice(s.start, s.end).replace(/\s+/g, ' ');
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the input';
  if (t.kind === 'string') return JSON.stringify(t.text);
  return `"${t.kind === 'duration' || t.kind === 'number' ? t.text : t.text}"`;
}
