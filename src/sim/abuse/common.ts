import type { SimContext } from '../context.js';
import type { SimMarket } from '../markets.js';
import type { Account } from '../population.js';
import type { Rng } from '../rng.js';
import type { InjectorEnv } from './scenario.js';

/** Liquid markets (majors, spot and perpetual). */
export function liquidMarkets(ctx: SimContext): SimMarket[] {
  return ctx.markets.filter((m) => !m.spec.thin);
}

/** Picks a market (by weight) and a free start for an episode of `duration`, trying markets in random order. */
export function slot(env: InjectorEnv, candidates: SimMarket[], duration: number, also: (m: SimMarket) => string[] = () => []): { market: SimMarket; start: number } | null {
  const order = env.rng.shuffle(candidates.slice());
  for (const m of order) {
    const start = env.planner.findStart(env.rng, [m.symbol, ...also(m)], duration);
    if (start !== null) return { market: m, start };
  }
  return null;
}

/** Accounts that trade actively (API traders and active retail): the usual source of manipulators. */
export function activeTraders(ctx: SimContext): Account[] {
  return ctx.pop.traders.accounts.filter((a) => a.role === 'algo' || (a.role === 'retail' && a.activity > 1.5));
}

export type LinkKind = 'device' | 'ip' | 'transfer' | 'api_ip';

/**
 * Makes accounts visibly related, the way colluding accounts usually are: a shared device
 * fingerprint, a shared IP, the same API server, or funding by internal transfer (emitted by the
 * scenario at its start). Returns how they are linked.
 */
export function link(rng: Rng, leader: Account, others: Account[], kinds: LinkKind[] = ['device', 'ip', 'transfer', 'api_ip']): LinkKind[] {
  const chosen = rng.sample(kinds, rng.int(1, Math.min(2, kinds.length)));
  for (const k of chosen) {
    for (const b of others) {
      if (k === 'device') {
        if (!b.devices.includes(leader.devices[0])) b.devices.unshift(leader.devices[0]);
      } else if (k === 'ip') {
        if (!b.ips.includes(leader.ips[0])) b.ips.unshift(leader.ips[0]);
      } else if (k === 'api_ip') {
        if (b.apiKeyId !== undefined && leader.apiIp) b.apiIp = leader.apiIp;
        else if (!b.ips.includes(leader.ips[0])) b.ips.unshift(leader.ips[0]);
      }
    }
  }
  return chosen;
}

/** Logs an account in through the leader's shared device/IP, so the link is visible in `login` events. */
export function loginLinked(ctx: SimContext, rng: Rng, leader: Account, b: Account, links: LinkKind[], now: number): void {
  const device = links.includes('device') ? leader.devices[0] : b.devices[0];
  const ip = links.includes('ip') || links.includes('api_ip') ? leader.ips[0] : b.ips[0];
  ctx.login(b, now, device, ip, rng.uniform(45, 120) * 60_000);
}
