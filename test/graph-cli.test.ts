import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, DATA } from './helpers/cli.js';
import { E } from './graph-helpers.js';

const T0 = Date.UTC(2024, 7, 1);
const MIN = 60_000;

function events(): string {
  const ev = [];
  // A linked cluster: three accounts on one device.
  for (const a of ['alice', 'bob', 'carol']) ev.push(E.login(a, T0 + 1000, 'dev-shared', `ip-${a}`));
  // A ring: x → y → z → x, flat.
  for (let k = 0; k < 3; k++) {
    ev.push(E.trade('x', 'y', T0 + k * MIN, '1', '100'));
    ev.push(E.trade('y', 'z', T0 + k * MIN + 1, '1', '100'));
    ev.push(E.trade('z', 'x', T0 + k * MIN + 2, '1', '100'));
  }
  // A farm: four new accounts, one emulator, logging in together.
  for (let i = 0; i < 4; i++) ev.push(E.opened(`f${i}`, T0 + i * 1000));
  for (let k = 0; k < 5; k++) for (let i = 0; i < 4; i++) ev.push(E.login(`f${i}`, T0 + 3_600_000 + k * 600_000 + i * 1500, 'emu-1', `10.1.1.${i}`));
  // Money moves: bob → mallory internally; mallory withdraws to an address.
  ev.push(E.transfer('bob', 'mallory', T0 + 5 * MIN, '250'));
  ev.push(E.withdrawal('mallory', T0 + 6 * MIN, '0x2222222222222222222222222222222222222222', '250'));
  ev.sort((a, b) => a.ts - b.ts);
  return ev.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

describe('riskloop graph CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-graph-cli-'));
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, events());

  it('build summarises the entity graph and what it found', async () => {
    const s = JSON.parse((await cli(['graph', 'build', file, '--json'])).stdout);
    expect(s.nodes).toMatchObject({ account: 11, device: 2, address: 1 });
    expect(s.edges).toMatchObject({ uses_device: 7, trades_with: 3, transfers_to: 1, withdraws_to: 1 });
    expect(s).toMatchObject({ linkedClusters: 2, collusiveRings: 1, sybilFarms: 1, deadLetters: 0 });
  });

  it('clusters and rings print their members', async () => {
    const c = (await cli(['graph', 'clusters', file])).stdout;
    expect(c).toMatch(/cluster 0: 4 accounts.*f0 f1 f2 f3/);
    expect(c).toMatch(/cluster 1: 3 accounts.*alice bob carol/);
    expect(c).toMatch(/shares device:dev-shared \(uses_device, used by 3/);
    const r = JSON.parse((await cli(['graph', 'rings', file, '--json', '--window', '1h'])).stdout);
    expect(r).toHaveLength(1);
    expect(r[0].members.map((m: { account: string }) => m.account)).toEqual(['account:x', 'account:y', 'account:z']);
  });

  it('explains an account: cluster, links, features and the path to a flagged account', async () => {
    const out = (await cli(['graph', 'explain', 'mallory', file, '--flagged', 'alice'])).stdout;
    expect(out).toMatch(/account:mallory: in no linked cluster/);
    expect(out).toMatch(/hopsToFlagged 3/);
    expect(out).toMatch(/account:mallory <- account:bob <- device:dev-shared <- account:alice/);
  });

  it('exposure screens an address against the real OFAC lists with the path as explanation', async () => {
    // 0x01e2…bb1 is on the OFAC ETH list (mixed case there; lower case here).
    const sdn = '0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1';
    const transfers = join(dir, 'transfers.csv');
    writeFileSync(
      transfers,
      [
        'from,to,value,asset,chain,txHash,time',
        `${sdn},0xaaaa000000000000000000000000000000000001,10,ETH,ethereum,0xt1,100`,
        `0xaaaa000000000000000000000000000000000001,0xbbbb000000000000000000000000000000000002,4,ETH,ethereum,0xt2,200`,
        `0xcccc000000000000000000000000000000000003,0xbbbb000000000000000000000000000000000002,4,ETH,ethereum,0xt3,150`,
      ].join('\n') + '\n',
    );
    const args = ['graph', 'exposure', '--address', '0xBBBB000000000000000000000000000000000002', '--labels', join(DATA, 'chain'), '--transfers', transfers, '--hops', '3'];
    const text = (await cli([...args, '--model', 'haircut'])).stdout;
    expect(text).toMatch(/risk MEDIUM/);
    expect(text).toMatch(/received funds from OFAC SDN \(ETH\) \[sanctioned\] through 2 hops/);
    expect(text).toMatch(/haircut exposure: 50\.00% \(4 of 8\)/);
    expect(text).toMatch(new RegExp(`${sdn} -> 0xaaaa0+1  10 at 100 tx 0xt1`));
    const poison = JSON.parse((await cli([...args, '--model', 'poison', '--json'])).stdout);
    expect(poison.exposure.exposure).toBe(0.5);
    expect(poison.screening.path.map((s: { txHash: string }) => s.txHash)).toEqual(['0xt1', '0xt2']);
  });
});
