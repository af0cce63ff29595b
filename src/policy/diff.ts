import type { PolicyDoc } from '../rules/types.js';

/**
 * Readable unified diffs between policy versions, for the audit trail and for reviewers.
 * A policy is rendered as text (its rules source, then thresholds and lists, one per line) and
 * diffed line by line.
 */

/** The text a reviewer reads: the rules source as written, then thresholds and lists in a fixed order. */
export function policyText(doc: PolicyDoc): string {
  const out: string[] = [];
  if (doc.description) out.push(`# description: ${doc.description.replace(/\s*\n\s*/g, ' ')}`);
  out.push(...doc.rules.replace(/\s+$/, '').split(/\r?\n/));
  const th = doc.thresholds ?? {};
  const order = ['review', 'limit', 'hold', 'block'] as const;
  if (order.some((k) => th[k] !== undefined)) {
    out.push('', 'thresholds:');
    for (const k of order) if (th[k] !== undefined) out.push(`  ${k} >= ${th[k]}`);
  }
  const lists = doc.lists ?? {};
  const names = Object.keys(lists).sort();
  if (names.length) {
    out.push('', 'lists:');
    for (const n of names) {
      for (const e of [...lists[n]].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))) {
        out.push(`  ${n}: ${e.value}${e.expiresAt !== undefined ? ` (expires ${new Date(e.expiresAt).toISOString()})` : ''}`);
      }
    }
  }
  return out.join('\n') + '\n';
}

type Op = { kind: ' ' | '-' | '+'; line: string };

/** Line edit script by LCS, after trimming the common head and tail (policies are small). */
function editScript(a: string[], b: string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const A = a.slice(head, a.length - tail);
  const B = b.slice(head, b.length - tail);
  const ops: Op[] = a.slice(0, head).map((line) => ({ kind: ' ', line }));
  const n = A.length;
  const m = B.length;
  if (n * m > 25_000_000) {
    // Too large to align: show it as one replacement rather than spend the memory.
    for (const line of A) ops.push({ kind: '-', line });
    for (const line of B) ops.push({ kind: '+', line });
  } else {
    // lcs[i*(m+1)+j] = LCS length of A[i..] and B[j..]
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] = A[i] === B[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && A[i] === B[j]) {
        ops.push({ kind: ' ', line: A[i++] });
        j++;
      } else if (i < n && (j === m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
        ops.push({ kind: '-', line: A[i++] }); // deletions before insertions, as diff(1) prints them
      } else {
        ops.push({ kind: '+', line: B[j++] });
      }
    }
  }
  for (const line of a.slice(a.length - tail)) ops.push({ kind: ' ', line });
  return ops;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A unified diff (`---`/`+++` headers, `@@` hunks with `context` lines around changes); '' when equal. */
export function unifiedDiff(before: string, after: string, labels: { from: string; to: string }, context = 3): string {
  const ops = editScript(splitLines(before), splitLines(after));
  if (!ops.some((o) => o.kind !== ' ')) return '';
  // Positions (1-based line numbers in a and b) before each op.
  const aAt: number[] = [];
  const bAt: number[] = [];
  let ai = 1;
  let bi = 1;
  for (const o of ops) {
    aAt.push(ai);
    bAt.push(bi);
    if (o.kind !== '+') ai++;
    if (o.kind !== '-') bi++;
  }
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k].kind === ' ') k++;
    if (k === ops.length) break;
    const start = Math.max(0, k - context);
    // Extend the hunk while the next change is within 2*context unchanged lines.
    let end = k;
    for (;;) {
      while (end < ops.length && ops[end].kind !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next].kind === ' ') next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, stop);
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    const aStart = aLen === 0 ? aAt[start] - 1 : aAt[start];
    const bStart = bLen === 0 ? bAt[start] - 1 : bAt[start];
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const o of hunk) out.push(o.kind + o.line);
    k = stop;
  }
  return out.join('\n') + '\n';
}

/** The diff from one policy version to another; `before` undefined diffs against nothing (every line added). */
export function diffPolicies(before: { label: string; doc: PolicyDoc } | undefined, after: { label: string; doc: PolicyDoc }): string {
  return unifiedDiff(before ? policyText(before.doc) : '', policyText(after.doc), { from: before?.label ?? '/dev/null', to: after.label });
}
