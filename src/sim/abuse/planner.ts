import type { Account } from '../population.js';
import type { Rng } from '../rng.js';

interface Window {
  start: number;
  end: number;
}

/**
 * Books time windows for episodes so that two episodes never share a market or an account at the
 * same time (plus a quiet guard around each), which keeps every episode distinguishable.
 */
export class Planner {
  private readonly byMarket = new Map<string, Window[]>();
  private readonly byAccount = new Map<Account, Window[]>();

  constructor(
    readonly earliest: number,
    readonly latest: number,
    readonly guardMs: number,
  ) {}

  private clash(list: Window[] | undefined, start: number, end: number): boolean {
    if (!list) return false;
    const g = this.guardMs;
    for (const w of list) if (start < w.end + g && end > w.start - g) return true;
    return false;
  }

  marketsFree(markets: readonly string[], start: number, end: number): boolean {
    for (const m of markets) if (this.clash(this.byMarket.get(m), start, end)) return false;
    return true;
  }

  accountFree(a: Account, start: number, end: number): boolean {
    return !this.clash(this.byAccount.get(a), start, end);
  }

  reserve(markets: readonly string[], accounts: readonly Account[], start: number, end: number): void {
    for (const m of markets) {
      let l = this.byMarket.get(m);
      if (!l) this.byMarket.set(m, (l = []));
      l.push({ start, end });
    }
    for (const a of accounts) {
      let l = this.byAccount.get(a);
      if (!l) this.byAccount.set(a, (l = []));
      l.push({ start, end });
    }
  }

  /** A random start such that [start, start + duration] fits the run and the markets are free, or null. */
  findStart(rng: Rng, markets: readonly string[], duration: number, tries = 60): number | null {
    const hi = this.latest - duration;
    if (hi <= this.earliest) return null;
    for (let i = 0; i < tries; i++) {
      const t = rng.uniform(this.earliest, hi);
      if (this.marketsFree(markets, t, t + duration)) return t;
    }
    return null;
  }

  /** Up to n distinct accounts from the pool that are free in the window. */
  pickAccounts(rng: Rng, pool: readonly Account[], n: number, start: number, end: number, accept: (a: Account) => boolean = () => true): Account[] {
    const out: Account[] = [];
    const seen = new Set<Account>();
    for (let tries = 0; out.length < n && tries < n * 40 && pool.length > 0; tries++) {
      const a = rng.pick(pool);
      if (seen.has(a)) continue;
      seen.add(a);
      if (this.accountFree(a, start, end) && accept(a)) out.push(a);
    }
    return out;
  }
}
