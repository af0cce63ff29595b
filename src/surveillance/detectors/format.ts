/** Small formatting helpers for alert explanations. */

/** A number with thousands separators and at most `digits` decimals (trailing zeros dropped). */
export function num(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  // toLocaleString is slow; alerts are built on the hot path of an alert storm.
  let s = Math.abs(x).toFixed(digits);
  if (digits > 0) s = s.replace(/\.?0+$/, '');
  const dot = s.indexOf('.');
  let int = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? '' : s.slice(dot);
  for (let i = int.length - 3; i > 0; i -= 3) int = `${int.slice(0, i)},${int.slice(i)}`;
  const out = int + frac;
  return x < 0 && out !== '0' ? `-${out}` : out;
}

/** Event time as "2024-08-09 00:00:55.342 UTC". */
export function time(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/** "3 trades" / "1 trade". */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${num(n, 0)} ${n === 1 ? word : pluralWord}`;
}

/** A price deviation as a percentage with sensible precision. */
export function pct(x: number): string {
  return `${num(x, x < 1 ? 3 : 2)}%`;
}
