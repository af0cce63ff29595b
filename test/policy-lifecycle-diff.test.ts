import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffPolicies, policyText, unifiedDiff } from '../src/policy/index.js';
import { Rng } from '../src/sim/rng.js';

/** A text and a seeded edit of it: lines deleted, inserted and changed here and there. */
function pair(rng: Rng): [string, string] {
  const vocab = ['rule a', '  when x > 1', '  then hold', '', 'rule b', '  when y < 2', '  then review', 'thresholds:', '  hold >= 70'];
  const a = Array.from({ length: rng.int(0, 40) }, () => vocab[rng.int(0, vocab.length - 1)]);
  const b: string[] = [];
  for (const line of a) {
    const r = rng.float();
    if (r < 0.1) continue; // deleted
    if (r < 0.2) b.push(`changed ${rng.int(0, 9)}`);
    else b.push(line);
    if (rng.float() < 0.08) b.push(`inserted ${rng.int(0, 9)}`);
  }
  const text = (l: string[]) => (l.length ? l.join('\n') + '\n' : '');
  return [text(a), text(b)];
}

const changed = (d: string) => d.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l)).length;

describe('unified diffs of policy versions', () => {
  it('patch(1) turns the old text into the new one, with as few changed lines as diff(1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-diff-'));
    const rng = new Rng(42);
    for (let k = 0; k < 40; k++) {
      const [a, b] = pair(rng);
      const d = unifiedDiff(a, b, { from: 'a', to: 'b' });
      if (a === b) {
        expect(d).toBe('');
        continue;
      }
      writeFileSync(join(dir, 'a.txt'), a);
      writeFileSync(join(dir, 'b.txt'), b);
      writeFileSync(join(dir, 'd.patch'), d);
      execFileSync('patch', ['-s', '-o', join(dir, 'out.txt'), join(dir, 'a.txt'), join(dir, 'd.patch')]);
      expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe(b);
      const gnu = spawnSync('diff', ['-u', join(dir, 'a.txt'), join(dir, 'b.txt')], { encoding: 'utf8' }).stdout;
      expect(changed(d)).toBe(changed(gnu));
    }
  });

  it('hunks carry three lines of context and merge when changes are close', () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const b = [...a];
    b[1] = 'line 2 changed';
    b[6] = 'line 7 changed'; // 4 unchanged lines apart: same hunk
    b[17] = 'line 18 changed'; // far: its own hunk
    const d = unifiedDiff(a.join('\n') + '\n', b.join('\n') + '\n', { from: 'p v1', to: 'p v2' });
    expect(d.split('\n').filter((l) => l.startsWith('@@'))).toEqual(['@@ -1,10 +1,10 @@', '@@ -15,6 +15,6 @@']);
    expect(d.startsWith('--- p v1\n+++ p v2\n')).toBe(true);
  });

  it('renders thresholds and lists in a fixed order, so equal policies diff to nothing', () => {
    const rules = 'rule r\n  when amount > 1\n  then hold\n';
    const one = { name: 'p', rules, thresholds: { hold: 70, review: 40 }, lists: { deny: [{ value: 'b' }, { value: 'a', expiresAt: 0 }] } };
    const two = { name: 'p', rules, thresholds: { review: 40, hold: 70 }, lists: { deny: [{ value: 'a', expiresAt: 0 }, { value: 'b' }] } };
    expect(policyText(one)).toBe(`${rules}\nthresholds:\n  review >= 40\n  hold >= 70\n\nlists:\n  deny: a (expires 1970-01-01T00:00:00.000Z)\n  deny: b\n`);
    expect(diffPolicies({ label: 'p v1', doc: one }, { label: 'p v2', doc: two })).toBe('');
    expect(diffPolicies({ label: 'p v1', doc: one }, { label: 'p v2', doc: { ...two, thresholds: { review: 45, hold: 70 } } })).toContain('-  review >= 40\n+  review >= 45\n');
  });
});
