import type { Outcome } from './types.js';

/** Source span of a node: 1-based position of its first character and offsets [start, end). */
export interface Span {
  line: number;
  column: number;
  start: number;
  end: number;
}

export type AggKind = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'distinct' | 'quantile';
export const AGG_KINDS: readonly AggKind[] = ['count', 'sum', 'avg', 'min', 'max', 'distinct', 'quantile'];
export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { kind: 'num'; value: number; span: Span; duration?: boolean }
  | { kind: 'str'; value: string; span: Span }
  | { kind: 'bool'; value: boolean; span: Span }
  | { kind: 'null'; span: Span }
  | { kind: 'field'; path: string; span: Span }
  | { kind: 'array'; items: Expr[]; span: Span }
  | { kind: 'not'; arg: Expr; span: Span }
  | { kind: 'neg'; arg: Expr; span: Span }
  | { kind: 'logic'; op: 'and' | 'or'; left: Expr; right: Expr; span: Span }
  | { kind: 'cmp'; op: CmpOp; left: Expr; right: Expr; span: Span }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr; span: Span }
  | { kind: 'in'; negated: boolean; left: Expr; right: Expr; span: Span }
  | { kind: 'strop'; op: 'contains' | 'startsWith' | 'endsWith'; left: Expr; right: Expr; span: Span }
  | { kind: 'call'; name: string; args: Expr[]; span: Span; nameSpan: Span }
  | { kind: 'agg'; agg: AggKind; value: Expr | null; q: Expr | null; by: FieldRef[]; windowMs: number; where: Expr | null; span: Span }
  | { kind: 'alerts'; by: FieldRef[]; windowMs: number; where: Expr | null; span: Span };

export interface FieldRef {
  path: string;
  span: Span;
}

export interface RuleAst {
  name: string;
  description?: string;
  when: Expr;
  outcome: Outcome;
  score: number;
  tags: string[];
  span: Span;
}
