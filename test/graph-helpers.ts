// Shared by the graph and chain tests: event builders, a seeded random graph, and a networkx bridge.
import { spawnSync } from 'node:child_process';
import type { ExchangeEvent } from '../src/events/schema.js';
import { mulberry32 } from '../src/graph/rng.js';

export const PYTHON = '/usr/bin/python3';

let nx: boolean | null = null;
/** True when Debian's python3-networkx can be imported by /usr/bin/python3. */
export function hasNetworkx(): boolean {
  if (nx === null) {
    const r = spawnSync(PYTHON, ['-c', 'import networkx'], { encoding: 'utf8' });
    nx = r.status === 0;
    if (!nx) console.warn('networkx comparisons skipped: /usr/bin/python3 cannot import networkx (apt-get install -y python3-networkx)');
  }
  return nx;
}

/** Runs a Python script with JSON on stdin and returns its JSON stdout. */
export function python<T>(script: string, input: unknown): T {
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A seeded random graph: n nodes, m distinct edges (no self-loops), weights in [1, 10). */
export function randomEdges(n: number, m: number, seed: number, opts: { communities?: number; intra?: number } = {}): { src: number[]; dst: number[]; w: number[] } {
  const rnd = mulberry32(seed);
  const seen = new Set<number>();
  const src: number[] = [];
  const dst: number[] = [];
  const w: number[] = [];
  const c = opts.communities ?? 0;
  const size = c ? Math.ceil(n / c) : n;
  while (src.length < m) {
    const u = Math.floor(rnd() * n);
    let v: number;
    if (c && rnd() < (opts.intra ?? 0.8)) v = Math.min(n - 1, Math.floor(u / size) * size + Math.floor(rnd() * size));
    else v = Math.floor(rnd() * n);
    if (u === v || seen.has(u * n + v)) continue;
    seen.add(u * n + v);
    src.push(u);
    dst.push(v);
    w.push(1 + Math.floor(rnd() * 90) / 10);
  }
  return { src, dst, w };
}

let seq = 0;
const ev = <T extends object>(e: T): ExchangeEvent => ({ id: `e${++seq}`, ...e }) as unknown as ExchangeEvent;

export const E = {
  opened: (accountId: string, ts: number, extra: object = {}) => ev({ type: 'account.opened', ts, accountId, ...extra }),
  login: (accountId: string, ts: number, deviceId: string, ip: string, success = true) => ev({ type: 'login', ts, accountId, sessionId: `s${seq}`, deviceId, ip, success }),
  deposit: (accountId: string, ts: number, address: string, amount = '1', chain = 'ETH', asset = 'ETH') => ev({ type: 'deposit', ts, accountId, address, amount, chain, asset, status: 'completed' }),
  withdrawal: (accountId: string, ts: number, address: string, amount = '1', chain = 'ETH', asset = 'ETH') => ev({ type: 'withdrawal', ts, accountId, address, amount, chain, asset, status: 'completed' }),
  transfer: (fromAccountId: string, toAccountId: string, ts: number, amount = '1', asset = 'USDT') => ev({ type: 'transfer.internal', ts, fromAccountId, toAccountId, amount, asset }),
  /** seller sells `size` to buyer; the buyer is the taker. */
  trade: (seller: string, buyer: string, ts: number, size = '1', price = '100', market = 'BTCUSDT') =>
    ev({ type: 'trade', ts, market, tradeId: `t${seq}`, price, size, aggressor: 'buy', makerAccountId: seller, takerAccountId: buyer }),
};
