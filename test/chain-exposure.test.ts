import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeAddress } from '../src/chain/address.js';
import { AddressLabels } from '../src/chain/labels.js';
import { TransferGraph, loadTransfers } from '../src/chain/transfers.js';
import { traceExposure, type TaintModel } from '../src/chain/exposure.js';
import { ScreeningIndex } from '../src/chain/screening.js';
import { clusterByCommonInput, propagateClusterLabels } from '../src/chain/utxo-clustering.js';
import { mulberry32 } from '../src/graph/rng.js';
import { DATA } from './helpers/cli.js';

const OFAC = join(DATA, 'chain');

function graphOf(rows: [string, string, number, number][]): TransferGraph {
  const g = new TransferGraph();
  rows.forEach(([from, to, value, time], i) => g.addTransfer({ from, to, value, time, txHash: `tx${i}` }));
  return g;
}
const sanctioned = (...addrs: string[]): AddressLabels => {
  const l = new AddressLabels();
  for (const a of addrs) l.add({ address: a, label: 'test SDN', category: 'sanctioned', source: 'test' });
  return l;
};

describe('address labels', () => {
  it('loads the real OFAC lists: every file, every address, EVM case-insensitive, chain by asset or shape', async () => {
    const labels = new AddressLabels();
    const r = await labels.loadOfacDirectory(OFAC, 1000);
    expect(r.files).toBe(15);
    expect(r.entries).toBe(650);
    expect(r.addresses).toBe(637); // the same EVM address is listed under ARB and BSC, and so on
    expect(r.byAsset.XBT).toBe(435);
    expect(r.byAsset.ETH).toBe(152);
    const mixed = '0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1';
    for (const spelling of [mixed, mixed.toLowerCase(), '0x' + mixed.slice(2).toUpperCase()]) {
      expect(labels.get(spelling).map((l) => l.category)).toEqual(['sanctioned']);
    }
    expect(labels.get('TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR')[0]).toMatchObject({ chain: 'tron', label: 'OFAC SDN (USDT)' });
    // Base58 is case-sensitive: a lower-cased bitcoin address is another address.
    expect(labels.get('123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX')).toHaveLength(1);
    expect(labels.get('123wbudmsjv4gctdvez6qq6z8nxskrj4kx')).toHaveLength(0);
    // Loading again is idempotent.
    const again = await labels.loadOfacDirectory(OFAC, 2000);
    expect(again).toMatchObject({ added: 0, removed: 0 });
  });

  it('applies list updates with event time: removal keeps history, lookups at a past time see the old list', () => {
    const labels = new AddressLabels();
    labels.applyOfacList('ETH', ['0xAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'], 100);
    const u = labels.applyOfacList('ETH', ['0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '0xcccccccccccccccccccccccccccccccccccccccc'], 200);
    expect(u).toEqual({ added: 1, removed: 1 });
    const a = '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    expect(labels.get(a)).toHaveLength(0);
    expect(labels.get(a, 150)).toHaveLength(1);
    expect(labels.get('0xcccccccccccccccccccccccccccccccccccccccc', 150)).toHaveLength(0);
    expect(labels.history(a)[0]).toMatchObject({ from: 100, to: 200 });
  });

  it('reads user tag lists in CSV and NDJSON, including removals, and reports bad lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-tags-'));
    writeFileSync(join(dir, 'tags.csv'), 'address,chain,label,category,op,time\n0xDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD,ETH,Tornado relayer,mixer,add,10\nbc1qxchangehatwa77et000000,BTC,"Big Exchange, hot",exchange,,\n,ETH,x,scam,add,1\n');
    writeFileSync(join(dir, 'tags.ndjson'), '{"address":"0xdddddddddddddddddddddddddddddddddddddddd","op":"remove","source":"tags.csv","time":50}\n{"address":"TXyz","chain":"TRX","label":"pig butchering","category":"scam"}\nnot json\n');
    const labels = new AddressLabels();
    const a = await labels.loadTagFile(join(dir, 'tags.csv'));
    expect(a.added).toBe(2);
    expect(a.rejected).toEqual([{ line: 4, reason: 'missing address' }]);
    expect(labels.get('BC1QXCHANGEHATWA77ET000000')[0]).toMatchObject({ label: 'Big Exchange, hot', category: 'exchange' });
    const b = await labels.loadTagFile(join(dir, 'tags.ndjson'), { ts: 60 });
    expect(b).toMatchObject({ added: 1, removed: 1 });
    expect(b.rejected[0].line).toBe(3);
    expect(labels.get('0xdddddddddddddddddddddddddddddddddddddddd')).toHaveLength(0);
    expect(labels.get('0xdddddddddddddddddddddddddddddddddddddddd', 20)[0].category).toBe('mixer');
    expect(labels.get('TXyz')[0].from).toBe(60);
  });
});

describe('taint models on hand-computed examples', () => {
  // bad sends 1 to X, clean sends 9 to X; X then pays U 9 and T 1.
  const laterT = graphOf([
    ['bad', 'X', 1, 1],
    ['clean', 'X', 9, 2],
    ['X', 'U', 9, 3],
    ['X', 'T', 1, 4],
  ]);
  // The same, but X pays T first.
  const firstT = graphOf([
    ['bad', 'X', 1, 1],
    ['clean', 'X', 9, 2],
    ['X', 'T', 1, 3],
    ['X', 'U', 9, 4],
  ]);
  const labels = sanctioned('bad');
  const exp = (g: TransferGraph, model: TaintModel, addr = 'T') => traceExposure(g, labels, addr, { model, hops: 3 });

  it('poison taints everything after the first tainted coin; haircut mixes; FIFO follows coin order', () => {
    expect(exp(laterT, 'poison').exposure).toBeCloseTo(1, 12);
    expect(exp(laterT, 'haircut').exposure).toBeCloseTo(0.1, 12);
    expect(exp(laterT, 'fifo').exposure).toBeCloseTo(0, 12);
    expect(exp(firstT, 'poison').exposure).toBeCloseTo(1, 12);
    expect(exp(firstT, 'haircut').exposure).toBeCloseTo(0.1, 12);
    expect(exp(firstT, 'fifo').exposure).toBeCloseTo(1, 12);
    // U received 9: haircut 0.9 of it tainted (10%); FIFO took the tainted coin first when U was paid first.
    expect(exp(laterT, 'haircut', 'U').taintedValue).toBeCloseTo(0.9, 12);
    expect(exp(laterT, 'fifo', 'U').taintedValue).toBeCloseTo(1, 12);
    expect(exp(firstT, 'fifo', 'U').taintedValue).toBeCloseTo(0, 12);
  });

  it('explains with the time-ordered path to the bad address', () => {
    const r = exp(laterT, 'haircut');
    expect(r.direct).toBe(false);
    expect(r.counterparties).toHaveLength(1);
    expect(r.counterparties[0]).toMatchObject({ address: 'bad', hops: 2, labels: [{ label: 'test SDN', category: 'sanctioned', source: 'test' }] });
    expect(r.counterparties[0].path).toEqual([
      { from: 'bad', to: 'X', value: 1, time: 1, txHash: 'tx0' },
      { from: 'X', to: 'T', value: 1, time: 4, txHash: 'tx3' },
    ]);
    expect(r.counterparties[0].value).toBeCloseTo(0.1, 12);
  });

  it('respects time: funds that arrive after they were passed on cannot taint', () => {
    const g = graphOf([
      ['X', 'T', 1, 4],
      ['bad', 'X', 1, 10],
    ]);
    for (const model of ['poison', 'haircut', 'fifo'] as const) {
      const r = traceExposure(g, labels, 'T', { model });
      expect(r.exposure).toBe(0);
      expect(r.counterparties).toHaveLength(0);
    }
  });

  it('stops at known services and at the hop limit', () => {
    const l = sanctioned('bad');
    l.add({ address: 'exch', label: 'Big Exchange', category: 'exchange' });
    const viaService = graphOf([
      ['bad', 'exch', 5, 1],
      ['exch', 'T', 5, 2],
    ]);
    const r = traceExposure(viaService, l, 'T', { model: 'poison' });
    expect(r.exposure).toBe(0);
    expect(r.stoppedAt).toEqual([{ address: 'exch', labels: ['Big Exchange'] }]);
    const chain = graphOf([
      ['bad', 'a', 1, 1],
      ['a', 'b', 1, 2],
      ['b', 'c', 1, 3],
      ['c', 'T', 1, 4],
    ]);
    expect(traceExposure(chain, l, 'T', { hops: 3, model: 'poison' }).exposure).toBe(0);
    const four = traceExposure(chain, l, 'T', { hops: 4, model: 'poison' });
    expect(four.exposure).toBe(1);
    expect(four.counterparties[0].path.map((s) => s.from)).toEqual(['bad', 'a', 'b', 'c']);
  });

  it('computes outgoing exposure: how much of what an address sends reaches a bad address', () => {
    const l = new AddressLabels();
    l.add({ address: 'mixer', label: 'Tornado', category: 'mixer' });
    const g = graphOf([
      ['other', 'X', 5, 1],
      ['W', 'X', 5, 2],
      ['X', 'mixer', 5, 3],
      ['X', 'Y', 5, 4],
    ]);
    const hair = traceExposure(g, l, 'W', { direction: 'outgoing', model: 'haircut' });
    expect(hair.exposure).toBeCloseTo(0.5, 12);
    expect(hair.counterparties[0].path).toEqual([
      { from: 'W', to: 'X', value: 5, time: 2, txHash: 'tx1' },
      { from: 'X', to: 'mixer', value: 5, time: 3, txHash: 'tx2' },
    ]);
    // FIFO: X pays the mixer with the older coins (from `other`), so none of W's.
    expect(traceExposure(g, l, 'W', { direction: 'outgoing', model: 'fifo' }).exposure).toBeCloseTo(0, 12);
    expect(traceExposure(g, l, 'W', { direction: 'outgoing', model: 'poison' }).exposure).toBeCloseTo(1, 12);
  });
});

describe('screening', () => {
  const S = '0x1111111111111111111111111111111111111111';
  const labels = sanctioned(S);
  labels.add({ address: 'mixer', label: 'Mixer X', category: 'mixer' });
  labels.add({ address: 'hot', label: 'Big Exchange', category: 'exchange' });
  const g = graphOf([
    [S, 'direct', 1, 1],
    [S, 'a', 1, 1],
    ['a', 'twohop', 1, 2],
    ['mixer', 'm1', 1, 1],
    ['m1', 'm2', 1, 2],
    [S, 'hot', 1, 1],
    ['hot', 'customer', 1, 2],
    ['payer', S, 1, 5],
    ['late', 'a', 1, 0], // before a received from S: no taint, and no path
  ]);
  const idx = new ScreeningIndex(g, labels, { hops: 3 });

  it('grades by label and distance, and explains with the path', () => {
    const upper = S.toUpperCase().replace('0X', '0x');
    expect(idx.screen(upper, 'incoming')).toMatchObject({ risk: 'severe', address: S });
    expect(idx.screen('direct', 'incoming')).toMatchObject({ risk: 'high', hops: 1, counterparty: S });
    const two = idx.screen('twohop', 'incoming');
    expect(two).toMatchObject({ risk: 'medium', hops: 2, counterparty: S });
    expect(two.path.map((s) => `${s.from}->${s.to}@${s.time}`)).toEqual([`${S}->a@1`, 'a->twohop@2']);
    expect(two.reasons[0]).toMatch(/received funds from test SDN \[sanctioned\] through 2 hops/);
    expect(idx.screen('m1', 'incoming')).toMatchObject({ risk: 'medium', hops: 1 });
    expect(idx.screen('m2', 'incoming')).toMatchObject({ risk: 'low', hops: 2, counterparty: 'mixer' });
    expect(idx.screen('late', 'incoming').risk).toBe('none');
    expect(idx.screen('unknown-address', 'incoming').risk).toBe('none');
  });

  it('stops at services and caps a service itself at low', () => {
    expect(idx.screen('customer', 'incoming').risk).toBe('none');
    const hot = idx.screen('hot', 'incoming');
    expect(hot.risk).toBe('low');
    expect(hot.reasons[0]).toMatch(/known service/);
  });

  it('screens withdrawals by where the address sends funds', () => {
    const w = idx.screen('payer', 'outgoing');
    expect(w).toMatchObject({ risk: 'high', hops: 1, counterparty: S });
    expect(w.path).toEqual([{ from: 'payer', to: S, value: 1, time: 5, txHash: 'tx7' }]);
    expect(idx.screen('payer', 'incoming').risk).toBe('none');
  });

  it('adds the taint share under a model on request', () => {
    // a held 1 clean coin (from `late`, t=0) before the sanctioned one (t=1), then paid twohop 1.
    const r = idx.screen('twohop', 'incoming', { model: 'haircut' });
    expect(r.exposure!.exposure).toBeCloseTo(0.5, 12);
    expect(r.exposure!.counterparties[0].address).toBe(S);
    expect(idx.screen('twohop', 'incoming', { model: 'poison' }).exposure!.exposure).toBe(1);
    expect(idx.screen('twohop', 'incoming', { model: 'fifo' }).exposure!.exposure).toBe(0);
  });

  it('answers in well under a millisecond on a 100k-edge graph, and agrees with the on-demand search', () => {
    const rnd = mulberry32(9);
    const big = new TransferGraph();
    const n = 30_000;
    for (let i = 0; i < 100_000; i++) big.addEdge(big.id(`a${Math.floor(rnd() * n)}`), big.id(`a${Math.floor(rnd() * n)}`), 1 + rnd() * 10, Math.floor(rnd() * 1e6));
    const l = new AddressLabels();
    for (let i = 0; i < 30; i++) l.add({ address: `a${i * 997}`, label: 'sdn', category: 'sanctioned' });
    const ix = new ScreeningIndex(big, l, { hops: 3 });
    const times: number[] = [];
    const counts: Record<string, number> = {};
    for (let i = 0; i < 5000; i++) {
      const a = `a${Math.floor(rnd() * n)}`;
      const t = performance.now();
      const r = ix.screen(a, 'incoming');
      times.push(performance.now() - t);
      counts[r.risk] = (counts[r.risk] ?? 0) + 1;
      if (i < 200 && r.hops !== null && r.hops > 0) {
        // The on-demand search finds a path of the same length.
        const e = traceExposure(big, l, a, { hops: 3, model: 'poison' });
        expect(Math.min(...e.counterparties.map((c) => c.hops))).toBe(r.hops);
        // The index's path is valid: consecutive, time-ordered, from the bad address to this one.
        for (let k = 1; k < r.path.length; k++) {
          expect(r.path[k].from).toBe(r.path[k - 1].to);
          expect(r.path[k].time).toBeGreaterThanOrEqual(r.path[k - 1].time);
        }
        expect(r.path[r.path.length - 1].to).toBe(normalizeAddress(a));
      }
    }
    times.sort((x, y) => x - y);
    const p99 = times[Math.floor(times.length * 0.99)];
    console.log(`screening 100k edges: build ${ix.buildMs.toFixed(0)} ms, p50 ${(times[2500] * 1000).toFixed(1)} µs, p99 ${(p99 * 1000).toFixed(1)} µs, levels ${JSON.stringify(counts)}`);
    expect(p99).toBeLessThan(2);
    expect((counts.medium ?? 0) + (counts.low ?? 0) + (counts.high ?? 0)).toBeGreaterThan(50);
  });
});

describe('transfer files and UTXO clustering', () => {
  it('reads CSV and NDJSON transfers, UTXO transactions with pro-rata edges, and reports bad lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-tr-'));
    writeFileSync(join(dir, 't.csv'), 'from,to,value,asset,chain,txHash,time\n0xAA00000000000000000000000000000000000000,0xbb00000000000000000000000000000000000000,5,ETH,ethereum,0x1,100\nx,,1,ETH,ethereum,0x2,1\n');
    writeFileSync(
      join(dir, 'u.ndjson'),
      [
        { txHash: 'u1', time: 10, inputs: [{ address: 'in1', value: 3 }, { address: 'in2', value: 1 }], outputs: [{ address: 'out1', value: 2 }, { address: 'out2', value: 2 }] },
        { txHash: 'u2', time: 11, inputs: [{ address: 'in2', value: 1 }, { address: 'in3', value: 1 }], outputs: [{ address: 'out3', value: 1.5 }, { address: 'in2', value: 0.5 }] },
        { txHash: 'cj', time: 12, inputs: [{ address: 'c1', value: 1 }, { address: 'c2', value: 1 }, { address: 'c3', value: 1 }], outputs: [{ address: 'o1', value: 0.9 }, { address: 'o2', value: 0.9 }, { address: 'o3', value: 0.9 }] },
        { from: 'p', to: 'q', value: 2, time: 13 },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n') + '\n{oops\n',
    );
    const { graph, report } = await loadTransfers(join(dir, 't.csv'));
    expect(report.transfers).toBe(1);
    expect(report.rejected).toEqual([{ line: 3, reason: 'missing from/to' }]);
    expect(graph.lookup('0xaa00000000000000000000000000000000000000')).toBeDefined();
    const r2 = await loadTransfers(join(dir, 'u.ndjson'), graph);
    expect(r2.report).toMatchObject({ transfers: 1, utxoTxs: 3 });
    expect(r2.report.rejected[0].line).toBe(5);
    // u1: in1 (3) pays out1 3·2/4 = 1.5; in2 (1) pays out1 0.5.
    const e = graph.edges();
    const flows: string[] = [];
    for (let i = 0; i < e.src.length; i++) flows.push(`${graph.address(e.src[i])}>${graph.address(e.dst[i])}:${e.value[i]}`);
    expect(flows).toContain('in1>out1:1.5');
    expect(flows).toContain('in2>out1:0.5');
    expect(flows.filter((f) => f.startsWith('in2>in2'))).toHaveLength(0);
    const c = clusterByCommonInput(graph);
    expect(c.clusters.map((x) => x.addresses)).toEqual([['in1', 'in2', 'in3']]);
    expect(c.clusters[0].evidence).toEqual(['u1', 'u2']);
    expect(c.skippedCoinjoins).toEqual(['cj']);
    expect(c.of('in3')!.id).toBe(0);
    const labels = new AddressLabels();
    labels.add({ address: 'in1', label: 'ransom wallet', category: 'ransomware' });
    expect(propagateClusterLabels(c, labels)).toBe(2);
    expect(labels.get('in3')[0]).toMatchObject({ label: 'ransom wallet', source: 'cluster:in1' });
  });
});
