import type { RuleDiagnostic } from './types.js';

export type TokKind = 'ident' | 'string' | 'number' | 'duration' | 'op' | 'eof';

export interface Token {
  kind: TokKind;
  /** identifier name, operator text, or the string's value */
  text: string;
  /** number value (numbers) or milliseconds (durations) */
  value: number;
  /** offsets into the source, [start, end) */
  start: number;
  end: number;
  line: number;
  column: number;
}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const TWO_CHAR_OPS = new Set(['==', '!=', '<=', '>=']);
const ONE_CHAR_OPS = new Set(['<', '>', '+', '-', '*', '/', '(', ')', '[', ']', ',']);

/** Splits rules source into tokens. Errors (bad characters, unterminated strings) are collected, not thrown. */
export function tokenize(src: string, diags: RuleDiagnostic[], lineOffset = 0): Token[] {
  const toks: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = src.length;
  const err = (message: string, at: number) => diags.push({ message, line: line + lineOffset, column: at - lineStart + 1 });
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 10) {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 35 /* # */) {
      while (i < n && src.charCodeAt(i) !== 10) i++;
      continue;
    }
    const start = i;
    const column = i - lineStart + 1;
    const push = (kind: TokKind, text: string, value = 0) => toks.push({ kind, text, value, start, end: i, line: line + lineOffset, column });
    if (isIdentStart(c)) {
      i++;
      while (i < n) {
        const d = src.charCodeAt(i);
        if (isIdentPart(d)) i++;
        else if (d === 46 /* . */ && i + 1 < n && isIdentStart(src.charCodeAt(i + 1))) i++;
        else break;
      }
      push('ident', src.slice(start, i));
      continue;
    }
    if (isDigit(c) || (c === 46 && i + 1 < n && isDigit(src.charCodeAt(i + 1)))) {
      while (i < n && isDigit(src.charCodeAt(i))) i++;
      if (src.charCodeAt(i) === 46 && isDigit(src.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(src.charCodeAt(i))) i++;
      }
      if ((src[i] === 'e' || src[i] === 'E') && (isDigit(src.charCodeAt(i + 1)) || ((src[i + 1] === '-' || src[i + 1] === '+') && isDigit(src.charCodeAt(i + 2))))) {
        i += 2;
        while (i < n && isDigit(src.charCodeAt(i))) i++;
      }
      const num = Number(src.slice(start, i));
      if (i < n && isIdentStart(src.charCodeAt(i))) {
        const us = i;
        while (i < n && isIdentPart(src.charCodeAt(i))) i++;
        const unit = src.slice(us, i);
        const ms = DURATION_MS[unit];
        if (ms === undefined) {
          err(`unknown duration unit "${unit}" (use ms, s, m, h, d or w)`, us);
          push('number', src.slice(start, i), num);
        } else push('duration', src.slice(start, i), num * ms);
        continue;
      }
      push('number', src.slice(start, i), num);
      continue;
    }
    if (c === 34 /* " */ || c === 39 /* ' */) {
      i++;
      let s = '';
      let closed = false;
      while (i < n) {
        const d = src.charCodeAt(i);
        if (d === c) {
          i++;
          closed = true;
          break;
        }
        if (d === 10) break;
        if (d === 92 /* \ */ && i + 1 < n) {
          const e = src[i + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        s += src[i++];
      }
      if (!closed) err('unterminated string', start);
      push('string', s);
      continue;
    }
    const two = src.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      i += 2;
      push('op', two);
      continue;
    }
    if (ONE_CHAR_OPS.has(src[i])) {
      i++;
      push('op', src[i - 1]);
      continue;
    }
    if (src[i] === '=') {
      err('"=" is not an operator; use "==" to compare', i);
      i++;
      push('op', '==');
      continue;
    }
    if (two === '&&' || two === '||') {
      err(`use "${two === '&&' ? 'and' : 'or'}" instead of "${two}"`, i);
      i += 2;
      push('ident', two === '&&' ? 'and' : 'or');
      continue;
    }
    if (src[i] === '!') {
      err('use "not" instead of "!"', i);
      i++;
      push('ident', 'not');
      continue;
    }
    err(`unexpected character ${JSON.stringify(src[i])}`, i);
    i++;
  }
  toks.push({ kind: 'eof', text: '', value: 0, start: n, end: n, line: line + lineOffset, column: n - lineStart + 1 });
  return toks;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
