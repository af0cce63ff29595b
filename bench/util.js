// Shared measuring helpers: best-of-N wall time, per-item latency percentiles, markdown tables.
export function gc() {
  if (globalThis.gc) globalThis.gc();
}

/** Runs fn `reps` times after a warm-up and returns the best time in ms (least disturbed by noise). */
export async function best(fn, reps = 5) {
  await fn();
  let bestMs = Infinity;
  for (let i = 0; i < reps; i++) {
    gc();
    const t = performance.now();
    await fn();
    bestMs = Math.min(bestMs, performance.now() - t);
  }
  return bestMs;
}

/** Best CPU time in ms of the process (user + system, all threads, GC included) over `reps` runs after a warm-up. */
export async function bestCpu(fn, reps = 5) {
  await fn();
  let bestMs = Infinity;
  for (let i = 0; i < reps; i++) {
    gc();
    const c = process.cpuUsage();
    await fn();
    const d = process.cpuUsage(c);
    bestMs = Math.min(bestMs, (d.user + d.system) / 1000);
  }
  return bestMs;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function fmt(n, digits = 0) {
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function table(header, rows) {
  const line = (r) => `| ${r.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
