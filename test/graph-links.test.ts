import { describe, expect, it } from 'vitest';
import { GraphLinks } from '../src/graph/links.js';
import { GraphFeatures, GRAPH_FEATURE_NAMES } from '../src/graph/features.js';
import { EntityGraphBuilder } from '../src/graph/entity-graph.js';
import { accountFeatures } from '../src/graph/algorithms/account-features.js';
import { collusiveRingsInWindow, detectCollusiveRings } from '../src/graph/algorithms/collusive-rings.js';
import { E } from './graph-helpers.js';

const T = 1_700_000_000_000;

describe('GraphLinks (ctx.links from the entity graph)', () => {
  it('links accounts on a shared device at once, not on a shared IP alone, and explains the tie', () => {
    const l = new GraphLinks();
    l.onEvent(E.login('a', T, 'dev1', '1.1.1.1'));
    l.onEvent(E.login('c', T + 5, 'dev9', '1.1.1.1'));
    expect(l.linked('a')).toEqual([]);
    expect(l.evidence('a', 'c')?.via.map((v) => v.node)).toEqual(['ip:1.1.1.1']);
    expect(l.evidence('a', 'c')!.weight).toBeLessThan(0.6);
    l.onEvent(E.login('b', T + 10, 'dev1', '2.2.2.2'));
    expect(l.linked('a')).toEqual(['b']);
    expect(l.areLinked('b', 'a')).toBe(true);
    expect(l.areLinked('a', 'c')).toBe(false);
    expect(l.evidence('a', 'b')).toMatchObject({ account: 'b', weight: 1, via: [{ node: 'device:dev1', weight: 1 }] });
  });

  it('weighs an identifier by how many accounts share it (IDF), and ignores hubs', () => {
    const l = new GraphLinks();
    for (let i = 0; i < 60; i++) l.onEvent(E.login(`u${i}`, T + i, 'shared-dev', `10.0.0.${i}`));
    // ln(500/60)/ln(250) = 0.38 < 0.6: a device on 60 accounts is no link on its own.
    expect(l.linked('u0')).toEqual([]);
    expect(l.evidence('u0', 'u1')!.weight).toBeCloseTo(Math.log(500 / 60) / Math.log(250), 6);
    l.onEvent(E.withdrawal('u0', T + 100, '0xAbC0000000000000000000000000000000000001'));
    l.onEvent(E.withdrawal('u1', T + 101, '0xabc0000000000000000000000000000000000001'));
    expect(l.linked('u0')).toEqual(['u1']);
    expect(l.evidence('u0', 'u1')!.via.map((v) => v.node)).toEqual(['address:0xabc0000000000000000000000000000000000001', 'device:shared-dev']);
  });

  it('links internal-transfer counterparties, not a treasury paying many, and config groups always', () => {
    const l = new GraphLinks({ groups: [['g1', 'g2']] });
    l.onEvent(E.transfer('leader', 'm1', T));
    expect(l.linked('m1')).toEqual(['leader']);
    for (let i = 0; i < 600; i++) l.onEvent(E.transfer('treasury', `c${i}`, T + i));
    expect(l.linked('c1')).toEqual([]);
    expect(l.linked('g1')).toEqual(['g2']);
  });

  it('answers from its cache exactly what ties() computes afresh, through random logins, withdrawals and transfers', () => {
    let x = 12345;
    const r = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const l = new GraphLinks();
    const acct = () => `a${Math.floor(r() * 30)}`;
    for (let i = 0; i < 1500; i++) {
      const t = T + i * 1000;
      const k = r();
      if (k < 0.5) l.onEvent(E.login(acct(), t, `d${Math.floor(r() * 25)}`, `10.0.0.${Math.floor(r() * 12)}`));
      else if (k < 0.75) l.onEvent(E.withdrawal(acct(), t, `0x${Math.floor(r() * 20).toString(16).padStart(40, '0')}`));
      else {
        const a = acct();
        const b = acct();
        if (a !== b) l.onEvent(E.transfer(a, b, t));
      }
      for (let q = 0; q < 3; q++) {
        const a = acct();
        const fresh = l.ties(a);
        expect(l.linked(a), `${a} after event ${i}`).toEqual(fresh.filter((f) => f.weight >= l.threshold).map((f) => f.account).sort());
        for (const f of fresh) expect(l.evidence(a, f.account)).toEqual(f);
      }
    }
  });

  it('ignores events carrying a market, so every surveillance partition holds the same links', () => {
    const l = new GraphLinks();
    l.onEvent(E.trade('a', 'b', T, '1'));
    l.onEvent({ type: 'order.placed', id: 'o1', ts: T, market: 'BTCUSDT', accountId: 'a', orderId: 'o1', side: 'buy', orderType: 'limit', price: '1', size: '1', ip: '9.9.9.9' } as never);
    expect(l.builder.nodeCount).toBe(0);
  });
});

describe('GraphFeatures (online, as of event time)', () => {
  const feed = () => {
    const f = new GraphFeatures({ flagged: ['address:0xbad0000000000000000000000000000000000000'] });
    f.onEvent(E.opened('a', T));
    f.onEvent(E.login('a', T + 1_000, 'dev1', '1.1.1.1'));
    f.onEvent(E.login('b', T + 2_000, 'dev1', '2.2.2.2'));
    f.onEvent(E.transfer('a', 'c', T + 3_000));
    f.onEvent(E.trade('a', 'd', T + 4_000));
    f.onEvent(E.deposit('c', T + 5_000, '0xBAD0000000000000000000000000000000000000'));
    f.onEvent(E.login('a', T + 6_000, 'dev2', '1.1.1.1'));
    return f;
  };

  it('answers each feature as of ts: nothing first seen later counts', () => {
    const f = feed();
    const at = (ts: number) => Object.fromEntries(GRAPH_FEATURE_NAMES.map((n) => [n, f.feature(`graph.${n}`, 'a', ts)]));
    expect(at(T + 2_500)).toMatchObject({ devices: 1, ips: 1, sharedDeviceAccounts: 1, transferOut: 0, tradeCounterparties: 0, linkedAccounts: 1, ageMs: 2_500, hopsToFlagged: -1 });
    expect(at(T + 10_000)).toMatchObject({ devices: 2, ips: 1, sharedDeviceAccounts: 1, transferOut: 1, tradeCounterparties: 1, linkedAccounts: 2, ageMs: 10_000, hopsToFlagged: 2 });
    expect(f.feature('graph.devices', 'a', T - 1)).toBeNull();
    expect(f.feature('graph.nope', 'a', T + 1)).toBeNull();
    expect(f.feature('devices', 'nobody', T + 1)).toBeNull();
    expect(f.read('a', T + 10_000)).toHaveLength(f.names.length);
  });

  it('agrees with the offline accountFeatures on the final graph', () => {
    const f = feed();
    const b = new EntityGraphBuilder();
    for (const e of [E.opened('a', T), E.login('a', T + 1_000, 'dev1', '1.1.1.1'), E.login('b', T + 2_000, 'dev1', '2.2.2.2'), E.transfer('a', 'c', T + 3_000), E.trade('a', 'd', T + 4_000), E.login('a', T + 6_000, 'dev2', '1.1.1.1')]) b.onEvent(e);
    const off = accountFeatures(b.graph, { accounts: ['account:a'] }).get('account:a')!;
    for (const k of ['devices', 'ips', 'transferOut', 'transferIn', 'tradeCounterparties', 'sharedDeviceAccounts', 'sharedIpAccounts'] as const) expect(f.feature(k, 'a', T + 10_000)).toBe(off[k]);
    const early = accountFeatures(b.graph, { accounts: ['account:a'], asOf: T + 2_500 }).get('account:a')!;
    expect(early.devices).toBe(1);
    expect(early.transferOut).toBe(0);
    expect(early.ageMs).toBe(2_500);
  });
});

describe('collusive rings with ties', () => {
  const lopsided = [
    { ts: 1, seller: 'p', buyer: 'q', qty: 20 },
    { ts: 2, seller: 'q', buyer: 'p', qty: 7 },
    { ts: 3, seller: 'p', buyer: 'q', qty: 20 },
    { ts: 4, seller: 'q', buyer: 'p', qty: 7 },
  ];
  it('reports tied accounts trading among themselves without a flat cycle, and untied near-flat cycles only when exactly flat', () => {
    expect(collusiveRingsInWindow(lopsided)).toHaveLength(0);
    const tied = collusiveRingsInWindow(lopsided, { tied: (a, b) => [a, b].sort().join() === 'p,q' });
    expect(tied).toHaveLength(1);
    expect(tied[0]).toMatchObject({ kind: 'linked', linkedShare: 1, trades: 4 });
    const nearFlat = [
      { ts: 1, seller: 'x', buyer: 'y', qty: 10 },
      { ts: 2, seller: 'y', buyer: 'x', qty: 9.8 },
      { ts: 3, seller: 'x', buyer: 'y', qty: 10 },
      { ts: 4, seller: 'y', buyer: 'x', qty: 9.8 },
    ];
    expect(detectCollusiveRings(nearFlat, { tolerance: 0.05 })).toHaveLength(1);
    expect(detectCollusiveRings(nearFlat, { tolerance: 0.05, tied: () => false, unlinkedTolerance: 0.01 })).toHaveLength(0);
    expect(detectCollusiveRings(nearFlat, { tolerance: 0.05, tied: () => true, unlinkedTolerance: 0.01 })[0]).toMatchObject({ kind: 'cycle', linkedShare: 1 });
  });
});
