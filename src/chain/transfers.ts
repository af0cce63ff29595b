import { openInput, readLines } from '../sources/lines.js';
import { buildCsr, Interner, type Csr } from '../graph/csr.js';
import { normalizeAddress } from './address.js';
import { splitCsv } from './labels.js';

/**
 * On-chain transfer graphs, in compact arrays (addresses interned to dense ids, one typed-array slot
 * per transfer), because a chain's graph is millions of edges and screening must answer in
 * microseconds.
 *
 * Account-model chains (Ethereum, Tron…): one transfer = one edge from → to.
 * UTXO chains (Bitcoin…): a transaction's inputs pay its outputs; value is allocated pro rata,
 * edge(in_i → out_j) = value(in_i) · value(out_j) / Σ outputs (the standard proportional split).
 * Change back to an input address is no edge. Each UTXO transaction's input set is also kept for
 * common-input-ownership clustering (utxo-clustering.ts).
 */
export interface ChainTransfer {
  from: string;
  to: string;
  value: number;
  time: number;
  asset?: string;
  chain?: string;
  txHash?: string;
}

export interface UtxoTx {
  txHash: string;
  time: number;
  chain?: string;
  asset?: string;
  inputs: { address: string; value: number }[];
  outputs: { address: string; value: number }[];
}

export interface TransferStep {
  from: string;
  to: string;
  value: number;
  time: number;
  txHash?: string;
}

class Grow<T extends Int32Array | Float64Array> {
  constructor(
    public data: T,
    public length = 0,
  ) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new (this.data.constructor as { new (n: number): T })(Math.max(1024, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

export class TransferGraph {
  readonly addresses = new Interner();
  private readonly src = new Grow(new Int32Array(1024));
  private readonly dst = new Grow(new Int32Array(1024));
  private readonly val = new Grow(new Float64Array(1024));
  private readonly tim = new Grow(new Float64Array(1024));
  private readonly txi = new Grow(new Int32Array(1024));
  private readonly txHashes = new Interner();
  /** UTXO transactions' input address ids: flat, with offsets. */
  readonly utxoInputs: number[] = [];
  readonly utxoOffsets: number[] = [0];
  readonly utxoTx: number[] = [];
  /** Output values per UTXO tx (for CoinJoin detection), flat with the same offsets scheme. */
  readonly utxoOutputValues: number[] = [];
  readonly utxoOutputOffsets: number[] = [0];
  private frozen: { out: Csr; in: Csr } | null = null;

  get edgeCount(): number {
    return this.src.length;
  }
  get addressCount(): number {
    return this.addresses.size;
  }

  id(address: string): number {
    return this.addresses.id(normalizeAddress(address));
  }
  lookup(address: string): number | undefined {
    return this.addresses.get(normalizeAddress(address));
  }
  address(id: number): string {
    return this.addresses.keys[id];
  }

  /** Adds a transfer between already-normalised address ids (the fast path). */
  addEdge(from: number, to: number, value: number, time: number, tx = -1): void {
    if (from === to) return;
    this.src.push(from);
    this.dst.push(to);
    this.val.push(value);
    this.tim.push(time);
    this.txi.push(tx);
    this.frozen = null;
  }

  addTransfer(t: ChainTransfer): void {
    this.addEdge(this.id(t.from), this.id(t.to), t.value, t.time, t.txHash ? this.txHashes.id(t.txHash) : -1);
  }

  addUtxoTx(tx: UtxoTx): void {
    const txId = this.txHashes.id(tx.txHash);
    const ins = tx.inputs.map((i) => ({ id: this.id(i.address), value: i.value }));
    const outs = tx.outputs.filter((o) => o.address).map((o) => ({ id: this.id(o.address), value: o.value }));
    const totalOut = outs.reduce((s, o) => s + o.value, 0);
    const inputIds = new Set(ins.map((i) => i.id));
    for (const i of inputIds) this.utxoInputs.push(i);
    this.utxoOffsets.push(this.utxoInputs.length);
    this.utxoTx.push(txId);
    for (const o of tx.outputs) this.utxoOutputValues.push(o.value);
    this.utxoOutputOffsets.push(this.utxoOutputValues.length);
    if (totalOut <= 0) return;
    for (const i of ins) for (const o of outs) if (!inputIds.has(o.id)) this.addEdge(i.id, o.id, (i.value * o.value) / totalOut, tx.time, txId);
  }

  txHash(tx: number): string | undefined {
    return tx >= 0 ? this.txHashes.keys[tx] : undefined;
  }

  /** Edge arrays (views; valid until the next add). */
  edges(): { src: Int32Array; dst: Int32Array; value: Float64Array; time: Float64Array; tx: Int32Array } {
    return { src: this.src.view(), dst: this.dst.view(), value: this.val.view(), time: this.tim.view(), tx: this.txi.view() };
  }

  /** Out- and in-CSR with each row sorted by time (cached until the graph changes). */
  csr(): { out: Csr; in: Csr } {
    if (this.frozen) return this.frozen;
    const e = this.edges();
    // Sort edge ids by time once (stable by id), then build both CSRs from that order so rows come out time-sorted.
    const order = new Int32Array(e.src.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const time = e.time;
    let sorted = true;
    for (let i = 1; i < time.length; i++) if (time[i] < time[i - 1]) {
      sorted = false;
      break;
    }
    if (!sorted) order.sort((a, b) => time[a] - time[b] || a - b);
    const s = new Int32Array(order.length);
    const d = new Int32Array(order.length);
    for (let k = 0; k < order.length; k++) {
      s[k] = e.src[order[k]];
      d[k] = e.dst[order[k]];
    }
    const n = this.addresses.size;
    const out = buildCsr(n, s, d);
    const inn = buildCsr(n, d, s);
    for (let k = 0; k < out.edgeIds.length; k++) out.edgeIds[k] = order[out.edgeIds[k]];
    for (let k = 0; k < inn.edgeIds.length; k++) inn.edgeIds[k] = order[inn.edgeIds[k]];
    this.frozen = { out, in: inn };
    return this.frozen;
  }

  step(edge: number): TransferStep {
    const e = this.edges();
    const s: TransferStep = { from: this.address(e.src[edge]), to: this.address(e.dst[edge]), value: e.value[edge], time: e.time[edge] };
    const h = this.txHash(e.tx[edge]);
    if (h) s.txHash = h;
    return s;
  }
}

export interface LoadReport {
  transfers: number;
  utxoTxs: number;
  rejected: { line: number; reason: string }[];
}

/**
 * Reads chain transfers into a graph. CSV needs a header with from,to,value,time (asset, chain,
 * txHash optional; UTXO rows instead carry txHash,time,inputs,outputs with `addr:value|addr:value`
 * lists). NDJSON lines are transfer objects or UTXO transactions ({txHash,time,inputs,outputs}).
 * Plain or gzip; bad lines are reported with their line number, never dropped silently.
 */
export async function loadTransfers(path: string, graph = new TransferGraph()): Promise<{ graph: TransferGraph; report: LoadReport }> {
  const report: LoadReport = { transfers: 0, utxoTxs: 0, rejected: [] };
  let header: string[] | null = null;
  let ndjson: boolean | null = null;
  for await (const batch of readLines(await openInput(path))) {
    for (let i = 0; i < batch.lines.length; i++) {
      const line = batch.lines[i];
      const lineNo = batch.firstLine + i;
      if (line.trim() === '') continue;
      if (ndjson === null) ndjson = line.trimStart().startsWith('{');
      let rec: Record<string, unknown>;
      if (ndjson) {
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch (err) {
          report.rejected.push({ line: lineNo, reason: `invalid JSON: ${(err as Error).message}` });
          continue;
        }
      } else {
        const cells = splitCsv(line);
        if (!header) {
          header = cells.map((c) => c.trim());
          continue;
        }
        rec = {};
        header.forEach((h, k) => (rec[h] = cells[k]?.trim()));
      }
      const r = addRecord(graph, rec);
      if (r === 'transfer') report.transfers++;
      else if (r === 'utxo') report.utxoTxs++;
      else report.rejected.push({ line: lineNo, reason: r.reason });
    }
  }
  return { graph, report };
}

function parseIo(v: unknown): { address: string; value: number }[] | null {
  if (Array.isArray(v)) {
    const out = v.map((x) => ({ address: String((x as { address?: unknown }).address ?? ''), value: Number((x as { value?: unknown }).value) }));
    return out.every((x) => x.address && Number.isFinite(x.value) && x.value >= 0) ? out : null;
  }
  if (typeof v === 'string') {
    if (v === '') return [];
    const out = v.split('|').map((p) => {
      const k = p.lastIndexOf(':');
      return { address: p.slice(0, k), value: Number(p.slice(k + 1)) };
    });
    return out.every((x) => x.address && Number.isFinite(x.value) && x.value >= 0) ? out : null;
  }
  return null;
}

function addRecord(graph: TransferGraph, rec: Record<string, unknown>): 'transfer' | 'utxo' | { reason: string } {
  const time = Number(rec.time ?? rec.timestamp);
  if (!Number.isFinite(time)) return { reason: 'missing or bad time' };
  if (rec.inputs !== undefined || rec.outputs !== undefined) {
    const inputs = parseIo(rec.inputs);
    const outputs = parseIo(rec.outputs);
    if (!inputs || !outputs) return { reason: 'bad inputs/outputs (address:value lists)' };
    const txHash = String(rec.txHash ?? rec.tx_hash ?? '');
    if (!txHash) return { reason: 'UTXO transaction without txHash' };
    graph.addUtxoTx({ txHash, time, inputs, outputs, chain: rec.chain ? String(rec.chain) : undefined });
    return 'utxo';
  }
  const from = String(rec.from ?? '').trim();
  const to = String(rec.to ?? '').trim();
  const value = Number(rec.value ?? rec.amount);
  if (!from || !to) return { reason: 'missing from/to' };
  if (!Number.isFinite(value) || value < 0) return { reason: `bad value ${String(rec.value)}` };
  const txHash = rec.txHash ?? rec.tx_hash;
  graph.addTransfer({ from, to, value, time, txHash: txHash ? String(txHash) : undefined });
  return 'transfer';
}
