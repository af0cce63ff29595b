import { join } from 'node:path';
import { openInput, readLines } from '../sources/lines.js';
import { Interner } from './csr.js';
import { explainFlowAnomaly, flowAnomalyScores, type FlowAnomalyOptions, type FlowAnomalyResult, type TransferArrays } from './algorithms/flow-anomaly.js';
import { evaluateRanking, type RankingEvaluation } from './metrics.js';

/**
 * IBM AMLSim's directory format: `nodes.csv` (nodeid,isFraud,init_balance,fraudStep) and
 * `transactions.csv` (sourceNodeId,targetNodeId,value,time), as in AMLSim's sample/ archives.
 * Column names are matched case-insensitively, and the later AMLSim output names are accepted too
 * (accounts.csv/ACCOUNT_ID/IS_SAR, transactions.csv/orig_acct/bene_acct/base_amt/tran_timestamp), so
 * other typologies' outputs read the same way. Files may be gzip.
 */
export interface AmlsimData {
  /** Account ids as written in the files, by dense index. */
  accounts: string[];
  /** 1 where isFraud (or IS_SAR) is true; all 0 when the files carry no label. */
  isFraud: Uint8Array;
  hasLabels: boolean;
  transfers: TransferArrays;
  rejected: { file: string; line: number; reason: string }[];
}

const NODE_ID = ['nodeid', 'node_id', 'account_id', 'acct_id', 'id'];
const FRAUD = ['isfraud', 'is_fraud', 'is_sar', 'issar', 'sar'];
const SRC = ['sourcenodeid', 'source', 'orig_acct', 'src', 'from'];
const DST = ['targetnodeid', 'target', 'bene_acct', 'dst', 'to'];
const VALUE = ['value', 'base_amt', 'amount', 'tx_amount'];
const TIME = ['time', 'tran_timestamp', 'timestamp', 'step'];

function column(header: string[], names: string[], file: string, required = true): number {
  const i = header.findIndex((h) => names.includes(h));
  if (i < 0 && required) throw new Error(`${file}: no column named any of ${names.join(', ')} (header: ${header.join(',')})`);
  return i;
}

function truthy(v: string): boolean {
  const s = v.trim().toLowerCase();
  return s === '1' || s === 'true' || s === 'yes' || s === 't';
}

async function* rows(path: string): AsyncGenerator<{ line: number; cells: string[] }> {
  for await (const batch of readLines(await openInput(path))) {
    for (let i = 0; i < batch.lines.length; i++) {
      const l = batch.lines[i];
      if (l.trim() === '') continue;
      yield { line: batch.firstLine + i, cells: l.split(',') };
    }
  }
}

async function firstExisting(dir: string, names: string[]): Promise<string> {
  const { access } = await import('node:fs/promises');
  for (const n of names) {
    for (const candidate of [join(dir, n), join(dir, `${n}.gz`)]) {
      try {
        await access(candidate);
        return candidate;
      } catch {
        // try the next name
      }
    }
  }
  throw new Error(`${dir}: none of ${names.join(', ')} found`);
}

export async function readAmlsim(dir: string): Promise<AmlsimData> {
  const nodesFile = await firstExisting(dir, ['nodes.csv', 'accounts.csv']);
  const txFile = await firstExisting(dir, ['transactions.csv', 'tx.csv']);
  const ids = new Interner();
  const fraud: number[] = [];
  const rejected: AmlsimData['rejected'] = [];
  let header: string[] | null = null;
  let idCol = 0;
  let fraudCol = -1;
  for await (const { line, cells } of rows(nodesFile)) {
    if (!header) {
      header = cells.map((c) => c.trim().toLowerCase());
      idCol = column(header, NODE_ID, nodesFile);
      fraudCol = column(header, FRAUD, nodesFile, false);
      continue;
    }
    const id = cells[idCol]?.trim();
    if (!id) {
      rejected.push({ file: nodesFile, line, reason: 'missing node id' });
      continue;
    }
    const i = ids.id(id);
    fraud[i] = fraudCol >= 0 && truthy(cells[fraudCol] ?? '') ? 1 : 0;
  }
  header = null;
  let s = 0;
  let d = 0;
  let v = 0;
  let t = 0;
  const src: number[] = [];
  const dst: number[] = [];
  const val: number[] = [];
  const tim: number[] = [];
  for await (const { line, cells } of rows(txFile)) {
    if (!header) {
      header = cells.map((c) => c.trim().toLowerCase());
      s = column(header, SRC, txFile);
      d = column(header, DST, txFile);
      v = column(header, VALUE, txFile);
      t = column(header, TIME, txFile);
      continue;
    }
    const a = cells[s]?.trim();
    const b = cells[d]?.trim();
    const value = Number(cells[v]);
    const rawT = (cells[t] ?? '').trim();
    let time = Number(rawT);
    if (!Number.isFinite(time)) time = Date.parse(rawT);
    if (!a || !b) {
      rejected.push({ file: txFile, line, reason: 'missing source or target' });
      continue;
    }
    if (!Number.isFinite(value) || value < 0) {
      rejected.push({ file: txFile, line, reason: `bad value ${cells[v]}` });
      continue;
    }
    if (!Number.isFinite(time)) {
      rejected.push({ file: txFile, line, reason: `bad time ${rawT}` });
      continue;
    }
    const ai = ids.id(a);
    const bi = ids.id(b);
    if (fraud[ai] === undefined) fraud[ai] = 0;
    if (fraud[bi] === undefined) fraud[bi] = 0;
    src.push(ai);
    dst.push(bi);
    val.push(value);
    tim.push(time);
  }
  const n = ids.size;
  const isFraud = new Uint8Array(n);
  for (let i = 0; i < n; i++) isFraud[i] = fraud[i] ?? 0;
  return {
    accounts: ids.keys,
    isFraud,
    hasLabels: fraudCol >= 0,
    transfers: { n, src: Int32Array.from(src), dst: Int32Array.from(dst), value: Float64Array.from(val), time: Float64Array.from(tim) },
    rejected,
  };
}

export interface AmlsimScan {
  data: AmlsimData;
  result: FlowAnomalyResult;
  /** Present when the files carry labels. */
  evaluation: RankingEvaluation | null;
  ms: number;
}

/** Reads an AMLSim directory, scores every account, and evaluates against isFraud when present. */
export async function scanAmlsim(dir: string, opts: FlowAnomalyOptions = {}): Promise<AmlsimScan> {
  const t0 = performance.now();
  const data = await readAmlsim(dir);
  const result = flowAnomalyScores(data.transfers, opts);
  const evaluation = data.hasLabels ? evaluateRanking(result.score, data.isFraud) : null;
  return { data, result, evaluation, ms: performance.now() - t0 };
}

export function explainAmlsimAccount(scan: AmlsimScan, accountId: string, maxTransfers = 10): ReturnType<typeof explainFlowAnomaly> & { id: string; isFraud: boolean | null } {
  const i = scan.data.accounts.indexOf(accountId);
  if (i < 0) throw new Error(`no account ${accountId}`);
  return { id: accountId, isFraud: scan.data.hasLabels ? scan.data.isFraud[i] === 1 : null, ...explainFlowAnomaly(scan.data.transfers, scan.result, i, maxTransfers) };
}
