import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openInput, readLines } from '../sources/lines.js';
import { guessChain, normalizeAddress } from './address.js';

/**
 * Address labels: who an address belongs to and how risky that is, with history in event time.
 *
 * Sources: OFAC's SDN crypto addresses (one `ofac-sanctioned-<ASSET>.json` array per asset, as
 * published by 0xB10C/ofac-sanctioned-digital-currency-addresses), user tag lists (CSV or NDJSON:
 * address, chain, label, category, optional op = add|remove and time), and updates of both. A label
 * is active from the event time it was added until the event time it was removed, so a screening
 * replayed at time t sees exactly the lists as they were at t.
 */
export const SEVERE_CATEGORIES = ['sanctioned', 'terrorism', 'csam'] as const;
export const RISK_CATEGORIES = [...SEVERE_CATEGORIES, 'mixer', 'darknet', 'scam', 'ransomware', 'stolen', 'hack', 'fraud', 'phishing'] as const;
/** Known services: taint does not pass through them (they pool many customers' funds). */
export const SERVICE_CATEGORIES = ['exchange', 'service', 'payment', 'custodian', 'bridge', 'merchant'] as const;

export interface AddressLabel {
  address: string;
  chain: string | null;
  label: string;
  category: string;
  source: string;
  /** Event time the label became active. */
  from: number;
  /** Event time it was removed (absent while active). */
  to?: number;
}

export interface LabelInput {
  address: string;
  chain?: string | null;
  label: string;
  category: string;
  source?: string;
}

/** OFAC list asset code → chain name. USDT/USDC lists mix chains: the address shape decides. */
const OFAC_CHAINS: Record<string, string> = {
  XBT: 'bitcoin',
  BTC: 'bitcoin',
  ETH: 'ethereum',
  ETC: 'ethereum-classic',
  ARB: 'arbitrum',
  BSC: 'bsc',
  BCH: 'bitcoin-cash',
  BSV: 'bitcoin-sv',
  BTG: 'bitcoin-gold',
  LTC: 'litecoin',
  DASH: 'dash',
  TRX: 'tron',
  XMR: 'monero',
  XRP: 'xrp',
  ZEC: 'zcash',
};

function ofacChain(asset: string, address: string): string | null {
  const fixed = OFAC_CHAINS[asset.toUpperCase()];
  if (fixed) return fixed;
  const g = guessChain(address);
  return g === 'evm' ? 'ethereum' : (g ?? null);
}

export class AddressLabels {
  private readonly byAddress = new Map<string, AddressLabel[]>();
  private active = 0;

  /** Adds a label at event time ts (a no-op if the same label from the same source is already active). */
  add(input: LabelInput, ts = 0): boolean {
    const address = normalizeAddress(input.address);
    if (!address) return false;
    const chain = input.chain ? input.chain.toLowerCase() : null;
    const source = input.source ?? 'user';
    let list = this.byAddress.get(address);
    if (!list) this.byAddress.set(address, (list = []));
    const same = list.find((l) => l.to === undefined && l.label === input.label && l.category === input.category && l.source === source && l.chain === chain);
    if (same) return false;
    list.push({ address, chain, label: input.label, category: input.category.toLowerCase(), source, from: ts });
    this.active++;
    return true;
  }

  /** Ends matching active labels at ts (all of the address's, or those matching the filter). Returns how many. */
  remove(address: string, filter: { source?: string; category?: string; label?: string; chain?: string } = {}, ts = 0): number {
    const list = this.byAddress.get(normalizeAddress(address));
    if (!list) return 0;
    let n = 0;
    for (const l of list) {
      if (l.to !== undefined) continue;
      if (filter.source !== undefined && l.source !== filter.source) continue;
      if (filter.category !== undefined && l.category !== filter.category.toLowerCase()) continue;
      if (filter.label !== undefined && l.label !== filter.label) continue;
      if (filter.chain !== undefined && l.chain !== filter.chain.toLowerCase()) continue;
      l.to = ts;
      n++;
    }
    this.active -= n;
    return n;
  }

  /** Labels active at event time `at` (default: now, i.e. not removed). Case-insensitive for EVM and bech32. */
  get(address: string, at?: number): AddressLabel[] {
    const list = this.byAddress.get(normalizeAddress(address));
    if (!list) return [];
    return list.filter((l) => (at === undefined ? l.to === undefined : l.from <= at && (l.to === undefined || l.to > at)));
  }

  /** Every label ever attached, including removed ones (the history). */
  history(address: string): AddressLabel[] {
    return [...(this.byAddress.get(normalizeAddress(address)) ?? [])];
  }

  categories(address: string, at?: number): Set<string> {
    return new Set(this.get(address, at).map((l) => l.category));
  }

  /** Normalised addresses with at least one label active at `at`. */
  addresses(at?: number): string[] {
    const out: string[] = [];
    for (const [a] of this.byAddress) if (this.get(a, at).length) out.push(a);
    return out.sort();
  }

  /** Active labels (now). */
  get size(): number {
    return this.active;
  }

  /** Addresses with any active label in one of the categories. */
  withCategories(categories: Iterable<string>, at?: number): string[] {
    const want = new Set([...categories].map((c) => c.toLowerCase()));
    const out: string[] = [];
    for (const [a, list] of this.byAddress) {
      if (list.some((l) => want.has(l.category) && (at === undefined ? l.to === undefined : l.from <= at && (l.to === undefined || l.to > at)))) out.push(a);
    }
    return out.sort();
  }

  /**
   * Replaces the OFAC list of one asset as of ts: addresses new to it are added, addresses dropped
   * from it are removed (their history stays). Loading the same list again changes nothing.
   */
  applyOfacList(asset: string, addresses: readonly string[], ts = 0): { added: number; removed: number } {
    const A = asset.toUpperCase();
    const label = `OFAC SDN (${A})`;
    const want = new Set(addresses.map(normalizeAddress).filter(Boolean));
    let removed = 0;
    for (const [a, list] of this.byAddress) {
      if (want.has(a)) continue;
      for (const l of list) {
        if (l.to === undefined && l.source === 'ofac' && l.label === label) {
          l.to = ts;
          removed++;
          this.active--;
        }
      }
    }
    let added = 0;
    for (const a of want) if (this.add({ address: a, chain: ofacChain(A, a), label, category: 'sanctioned', source: 'ofac' }, ts)) added++;
    return { added, removed };
  }

  /** Loads every `ofac-sanctioned-<ASSET>.json` in a directory (an update when called again). */
  async loadOfacDirectory(dir: string, ts = 0): Promise<{ files: number; entries: number; addresses: number; byAsset: Record<string, number>; added: number; removed: number }> {
    const files = (await readdir(dir)).filter((f) => /^ofac-sanctioned-[A-Za-z0-9]+\.json$/.test(f)).sort();
    const byAsset: Record<string, number> = {};
    let entries = 0;
    let added = 0;
    let removed = 0;
    const all = new Set<string>();
    for (const f of files) {
      const asset = basename(f, '.json').slice('ofac-sanctioned-'.length).toUpperCase();
      const list = JSON.parse(await readFile(join(dir, f), 'utf8')) as unknown;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new Error(`${f}: expected a JSON array of address strings`);
      const r = this.applyOfacList(asset, list as string[], ts);
      added += r.added;
      removed += r.removed;
      byAsset[asset] = list.length;
      entries += list.length;
      for (const a of list as string[]) all.add(normalizeAddress(a));
    }
    return { files: files.length, entries, addresses: all.size, byAsset, added, removed };
  }

  /**
   * Loads a tag list: CSV with a header (address,chain,label,category[,op][,time][,source]) or NDJSON
   * objects with the same fields. op = add (default) or remove; time = event time ms (default `ts`).
   */
  async loadTagFile(path: string, opts: { ts?: number; source?: string } = {}): Promise<{ added: number; removed: number; rejected: { line: number; reason: string }[] }> {
    const rejected: { line: number; reason: string }[] = [];
    let added = 0;
    let removed = 0;
    let header: string[] | null = null;
    let ndjson: boolean | null = null;
    for await (const batch of readLines(await openInput(path))) {
      for (let i = 0; i < batch.lines.length; i++) {
        const line = batch.lines[i];
        const lineNo = batch.firstLine + i;
        if (line.trim() === '' || line.startsWith('#')) continue;
        if (ndjson === null) ndjson = line.trimStart().startsWith('{');
        let rec: Record<string, unknown>;
        if (ndjson) {
          try {
            rec = JSON.parse(line) as Record<string, unknown>;
          } catch (err) {
            rejected.push({ line: lineNo, reason: `invalid JSON: ${(err as Error).message}` });
            continue;
          }
        } else {
          const cells = splitCsv(line);
          if (!header) {
            header = cells.map((c) => c.trim().toLowerCase());
            if (!header.includes('address')) throw new Error(`${path}: CSV tag list needs a header with an "address" column`);
            continue;
          }
          rec = {};
          header.forEach((h, k) => (rec[h] = cells[k]?.trim()));
        }
        const address = typeof rec.address === 'string' ? rec.address.trim() : '';
        if (!address) {
          rejected.push({ line: lineNo, reason: 'missing address' });
          continue;
        }
        const op = rec.op === undefined || rec.op === null || rec.op === '' ? 'add' : String(rec.op).toLowerCase();
        const t = rec.time === undefined || rec.time === '' ? (opts.ts ?? 0) : Number(rec.time);
        if (!Number.isFinite(t)) {
          rejected.push({ line: lineNo, reason: `bad time ${String(rec.time)}` });
          continue;
        }
        const source = typeof rec.source === 'string' && rec.source ? rec.source : (opts.source ?? basename(path));
        const chain = typeof rec.chain === 'string' && rec.chain ? rec.chain : null;
        if (op === 'remove') {
          removed += this.remove(address, { source, ...(rec.category ? { category: String(rec.category) } : {}), ...(rec.label ? { label: String(rec.label) } : {}) }, t);
          continue;
        }
        if (op !== 'add') {
          rejected.push({ line: lineNo, reason: `unknown op "${op}" (add or remove)` });
          continue;
        }
        const category = typeof rec.category === 'string' && rec.category ? rec.category : 'other';
        const label = typeof rec.label === 'string' && rec.label ? rec.label : category;
        if (this.add({ address, chain, label, category, source }, t)) added++;
      }
    }
    return { added, removed, rejected };
  }
}

/** One CSV line into cells (double quotes, "" escapes). */
export function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else q = false;
      } else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function isSevere(category: string): boolean {
  return (SEVERE_CATEGORIES as readonly string[]).includes(category);
}
