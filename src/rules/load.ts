import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PolicyDocSchema, RuleCompileError, type PolicyDoc } from './types.js';

/**
 * Reads a policy: `.rules` (rules source only; the name is the file name), `.yaml`/`.yml` or
 * `.json` (a PolicyDoc). A YAML/JSON `rules` may also be a list of rule sources, joined. Throws
 * RuleCompileError (with the file name) when the document does not match the schema.
 */
export function loadPolicyFile(path: string): PolicyDoc {
  const text = readFileSync(path, 'utf8');
  const ext = extname(path).toLowerCase();
  if (ext === '.rules') return { name: basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_'), rules: text };
  let raw: unknown;
  try {
    raw = ext === '.json' ? JSON.parse(text) : ext === '.yaml' || ext === '.yml' ? parseYaml(text) : undefined;
  } catch (err) {
    const e = err as { message: string; linePos?: { line: number; col: number }[] };
    const at = e.linePos?.[0] ?? { line: 1, col: 1 };
    throw new RuleCompileError([{ message: `not valid ${ext.slice(1).toUpperCase()}: ${e.message.split('\n')[0]}`, line: at.line, column: at.col }], path);
  }
  if (raw === undefined) throw new RuleCompileError([{ message: `unknown policy file type "${ext}" (use .rules, .yaml, .yml or .json)`, line: 1, column: 1 }], path);
  if (raw && typeof raw === 'object' && Array.isArray((raw as { rules?: unknown }).rules)) {
    const r = raw as { rules: unknown[] };
    if (r.rules.every((x) => typeof x === 'string')) r.rules = r.rules.join('\n') as unknown as unknown[];
  }
  if (raw && typeof raw === 'object' && !('name' in raw)) (raw as Record<string, unknown>).name = basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_');
  const parsed = PolicyDocSchema.safeParse(raw);
  if (!parsed.success) throw new RuleCompileError(parsed.error.issues.map((i) => ({ message: `${i.path.join('.') || '(root)'}: ${i.message}`, line: 1, column: 1 })), path);
  return parsed.data;
}

/** The policy document's JSON Schema (docs/schema/policy.schema.json). */
export function policyJsonSchema(): unknown {
  return z.toJSONSchema(PolicyDocSchema, { io: 'input' });
}
