import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { RuleDiagnostic } from './types.js';

/**
 * Maps positions inside a policy's rules source to positions in the file that holds it: the same
 * for .rules; for YAML, rules in a block scalar (`rules: |`) start on the next line, indented.
 * Returns null when the mapping is unknown (JSON strings, flow scalars): positions stay relative.
 */
export function rulesPositionMapper(path: string): ((d: RuleDiagnostic) => RuleDiagnostic) | null {
  const ext = extname(path).toLowerCase();
  if (ext === '.rules') return (d) => d;
  if (ext !== '.yaml' && ext !== '.yml') return null;
  const lines = readFileSync(path, 'utf8').split('\n');
  const i = lines.findIndex((l) => /^rules:\s*[|>][-+]?\s*(#.*)?$/.test(l));
  if (i < 0) return null;
  const first = lines.slice(i + 1).find((l) => l.trim() !== '');
  const indent = first ? first.length - first.trimStart().length : 0;
  return (d) => ({ ...d, line: d.line + i + 1, column: d.column + indent });
}
