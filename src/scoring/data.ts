/**
 * Tabular data for scoring: CSV parsing, column typing, the German credit loader and a columnar dataset
 * (Float64Array per column; categorical columns hold category codes; missing values are NaN).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type ColumnType = 'numeric' | 'categorical';

/** A model input column. Categorical columns carry their category labels; the code of a label is its index. */
export interface FeatureSpec {
  name: string;
  type: ColumnType;
  categories?: string[];
}

export interface Dataset {
  features: FeatureSpec[];
  /** One column per feature: the number, or the category code; NaN when missing. */
  columns: Float64Array[];
  nRows: number;
  /** 0/1 labels (1 = bad / event) for classification, or real values for regression. */
  target?: Float64Array;
  targetName?: string;
}

export interface CsvTable {
  header: string[];
  rows: string[][];
}

/** Tokens read as a missing value, as they come in real files. */
const MISSING = new Set(['', 'na', 'nan', 'n/a', '?', 'null', 'none', '.']);

export function isMissingToken(token: string): boolean {
  return MISSING.has(token.trim().toLowerCase());
}

/** A strict number: the whole trimmed token must be a finite decimal/scientific number (or ±inf). */
export function parseNumber(token: string): number | undefined {
  const t = token.trim();
  if (t === '') return undefined;
  const lower = t.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** Parses CSV text (RFC 4180 quoting, CRLF or LF). The delimiter is sniffed from the header when not given. */
export function parseCsv(text: string, delimiter?: string): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const firstLine = text.slice(0, Math.max(0, text.indexOf('\n')) || text.length);
  const delim = delimiter ?? sniffDelimiter(firstLine);
  if (delim.length !== 1) throw new Error(`CSV: the delimiter must be one character, got "${delim}"`);
  const delimCode = delim.charCodeAt(0);
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  let i = 0;
  const n = text.length;
  let fieldStarted = false;
  while (i < n) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && !fieldStarted) {
      inQuotes = true;
      fieldStarted = true;
      i++;
      continue;
    }
    if (ch === delim) {
      record.push(field);
      field = '';
      fieldStarted = false;
      i++;
      continue;
    }
    if (ch === '\n' || ch === '\r') {
      record.push(field);
      field = '';
      fieldStarted = false;
      if (!(record.length === 1 && record[0] === '')) records.push(record);
      record = [];
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    // Unquoted run: take everything up to the next delimiter, quote or line break in one slice.
    let j = i + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === delimCode || c === 10 || c === 13 || c === 34) break;
      j++;
    }
    field += text.slice(i, j);
    fieldStarted = true;
    i = j;
  }
  if (inQuotes) throw new Error('CSV: unterminated quoted field at end of input');
  if (fieldStarted || record.length > 0) {
    record.push(field);
    if (!(record.length === 1 && record[0] === '')) records.push(record);
  }
  if (records.length === 0) throw new Error('CSV: empty input (no header)');
  const header = records[0].map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw new Error(`CSV: duplicate column name "${h}"`);
    seen.add(h);
  }
  const rows = records.slice(1);
  for (let r = 0; r < rows.length; r++) {
    if (rows[r].length !== header.length) {
      throw new Error(`CSV: row ${r + 2} has ${rows[r].length} fields, the header has ${header.length}`);
    }
  }
  return { header, rows };
}

function sniffDelimiter(line: string): string {
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '\t', '|']) {
    const c = line.split(d).length - 1;
    if (c > bestCount) {
      best = d;
      bestCount = c;
    }
  }
  return best;
}

export interface TypingOptions {
  /** Columns forced categorical even if every value is a number (e.g. codes). */
  categorical?: string[];
  /** Columns forced numeric: a non-number there is an error. */
  numeric?: string[];
  /** Columns to leave out. */
  exclude?: string[];
}

/** A column is numeric when every non-missing value is a number; otherwise it is categorical. */
export function inferFeatureSpecs(table: CsvTable, opts: TypingOptions = {}): FeatureSpec[] {
  const specs: FeatureSpec[] = [];
  const exclude = new Set(opts.exclude ?? []);
  for (const name of opts.categorical ?? []) if (!table.header.includes(name)) throw new Error(`no column "${name}" (--categorical)`);
  for (const name of opts.numeric ?? []) if (!table.header.includes(name)) throw new Error(`no column "${name}" (--numeric)`);
  table.header.forEach((name, c) => {
    if (exclude.has(name)) return;
    let numeric = !(opts.categorical ?? []).includes(name);
    if (numeric) {
      for (const row of table.rows) {
        const t = row[c];
        if (isMissingToken(t)) continue;
        if (parseNumber(t) === undefined) {
          if ((opts.numeric ?? []).includes(name)) throw new Error(`column "${name}" is declared numeric but holds "${t}"`);
          numeric = false;
          break;
        }
      }
    }
    if (numeric) specs.push({ name, type: 'numeric' });
    else {
      const labels = new Set<string>();
      for (const row of table.rows) if (!isMissingToken(row[c])) labels.add(row[c].trim());
      specs.push({ name, type: 'categorical', categories: [...labels].sort(compareLabels) });
    }
  });
  return specs;
}

/** Natural order: numeric parts compare as numbers (A41 < A410), so category codes are stable and readable. */
export function compareLabels(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export interface BuildOptions {
  target?: string;
  /** The label of the positive (bad) class when the target is not 0/1. */
  positive?: string;
  /** Regression target: keep real values. */
  regression?: boolean;
}

export interface BuildReport {
  /** Categorical values not in the schema, by column (read as missing). */
  unseenCategories: Record<string, number>;
  /** Non-numbers in numeric columns, by column (read as missing). */
  badNumbers: Record<string, number>;
}

/** Builds a dataset from a parsed table against a feature schema (from inference, or from a trained model). */
export function buildDataset(table: CsvTable, features: FeatureSpec[], opts: BuildOptions = {}): { dataset: Dataset; report: BuildReport } {
  const n = table.rows.length;
  const report: BuildReport = { unseenCategories: {}, badNumbers: {} };
  const columns = features.map((f) => {
    const c = table.header.indexOf(f.name);
    if (c < 0) throw new Error(`the data has no column "${f.name}" (columns: ${table.header.join(', ')})`);
    const col = new Float64Array(n);
    if (f.type === 'numeric') {
      for (let r = 0; r < n; r++) {
        const t = table.rows[r][c];
        if (isMissingToken(t)) col[r] = NaN;
        else {
          const v = parseNumber(t);
          if (v === undefined) {
            report.badNumbers[f.name] = (report.badNumbers[f.name] ?? 0) + 1;
            col[r] = NaN;
          } else col[r] = v;
        }
      }
    } else {
      const codes = new Map((f.categories ?? []).map((label, i) => [label, i]));
      for (let r = 0; r < n; r++) {
        const t = table.rows[r][c];
        if (isMissingToken(t)) col[r] = NaN;
        else {
          const code = codes.get(t.trim());
          if (code === undefined) {
            report.unseenCategories[f.name] = (report.unseenCategories[f.name] ?? 0) + 1;
            col[r] = NaN;
          } else col[r] = code;
        }
      }
    }
    return col;
  });
  const dataset: Dataset = { features, columns, nRows: n };
  if (opts.target !== undefined) {
    dataset.target = parseTarget(table, opts.target, opts);
    dataset.targetName = opts.target;
  }
  return { dataset, report };
}

function parseTarget(table: CsvTable, name: string, opts: BuildOptions): Float64Array {
  const c = table.header.indexOf(name);
  if (c < 0) throw new Error(`the data has no target column "${name}" (columns: ${table.header.join(', ')})`);
  const y = new Float64Array(table.rows.length);
  for (let r = 0; r < table.rows.length; r++) {
    const t = table.rows[r][c].trim();
    if (isMissingToken(t)) throw new Error(`target "${name}" is missing on data row ${r + 1}`);
    if (opts.positive !== undefined) {
      y[r] = t === opts.positive ? 1 : 0;
      continue;
    }
    const v = parseNumber(t);
    const lower = t.toLowerCase();
    if (v === undefined) {
      if (lower === 'true' || lower === 'yes' || lower === 'bad') y[r] = 1;
      else if (lower === 'false' || lower === 'no' || lower === 'good') y[r] = 0;
      else throw new Error(`target "${name}" holds "${t}" on data row ${r + 1}: give the positive label with --positive`);
      continue;
    }
    if (!opts.regression && v !== 0 && v !== 1) throw new Error(`target "${name}" holds ${t} on data row ${r + 1}: a binary target must be 0/1 (or give --positive LABEL)`);
    y[r] = v;
  }
  return y;
}

/** The attribute names of Statlog German credit, in file order (see ../shared/data/README.md). */
export const GERMAN_COLUMNS: readonly FeatureSpec['name'][] = [
  'checking_status',
  'duration_months',
  'credit_history',
  'purpose',
  'credit_amount',
  'savings',
  'employment_since',
  'installment_rate',
  'personal_status_sex',
  'other_debtors',
  'residence_since',
  'property',
  'age',
  'other_installment_plans',
  'housing',
  'existing_credits',
  'job',
  'people_liable',
  'telephone',
  'foreign_worker',
];
const GERMAN_NUMERIC = new Set(['duration_months', 'credit_amount', 'installment_rate', 'residence_since', 'age', 'existing_credits', 'people_liable']);

/** German credit as a table: the 20 named attributes plus `bad` (1 when the class is 2 = bad, else 0). */
export function parseGermanText(text: string): CsvTable {
  const rows: string[][] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const f = line.trim().split(/\s+/);
    if (f.length !== 21) throw new Error(`german.data line ${i + 1}: ${f.length} fields, expected 21`);
    const cls = f[20];
    if (cls !== '1' && cls !== '2') throw new Error(`german.data line ${i + 1}: class "${cls}" is neither 1 nor 2`);
    rows.push([...f.slice(0, 20), cls === '2' ? '1' : '0']);
  });
  return { header: [...GERMAN_COLUMNS, 'bad'], rows };
}

/** The schema of German credit: the documented numeric attributes are numeric, the A-coded ones categorical. */
export function germanFeatureSpecs(table: CsvTable): FeatureSpec[] {
  return inferFeatureSpecs(table, {
    exclude: ['bad'],
    categorical: GERMAN_COLUMNS.filter((c) => !GERMAN_NUMERIC.has(c)),
    numeric: [...GERMAN_NUMERIC],
  });
}

export type DataFormat = 'csv' | 'german' | 'auto';

export interface LoadedTable {
  table: CsvTable;
  format: 'csv' | 'german';
  /** sha256 of the file's bytes and the column list. */
  fingerprint: string;
  bytes: number;
}

/** Reads a CSV or a German credit file; `auto` takes `.data` files whose first line looks like German credit as German. */
export function loadTable(path: string, format: DataFormat = 'auto', delimiter?: string): LoadedTable {
  const buf = readFileSync(path);
  const text = buf.toString('utf8');
  let fmt: 'csv' | 'german' = format === 'auto' ? 'csv' : format;
  if (format === 'auto') {
    const first = text.slice(0, text.indexOf('\n') >= 0 ? text.indexOf('\n') : text.length).trim();
    if (/^A1\d(\s+\S+){20}$/.test(first)) fmt = 'german';
  }
  const table = fmt === 'german' ? parseGermanText(text) : parseCsv(text, delimiter);
  return { table, format: fmt, fingerprint: dataFingerprint(buf, table.header), bytes: buf.length };
}

export function dataFingerprint(bytes: Uint8Array, columns: string[]): string {
  return createHash('sha256').update(bytes).update('\n').update(columns.join(',')).digest('hex');
}

/** The rows at `indices` (in that order), as a new dataset sharing the schema. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = indices.length;
  const columns = ds.columns.map((col) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = col[indices[i]];
    return out;
  });
  const out: Dataset = { features: ds.features, columns, nRows: n, targetName: ds.targetName };
  if (ds.target) {
    const t = new Float64Array(n);
    for (let i = 0; i < n; i++) t[i] = ds.target[indices[i]];
    out.target = t;
  }
  return out;
}

/** One row as a dense vector in feature order. */
export function rowOf(ds: Dataset, r: number, out = new Float64Array(ds.features.length)): Float64Array {
  for (let f = 0; f < ds.columns.length; f++) out[f] = ds.columns[f][r];
  return out;
}

/** A human-readable value: the category label or the number, "missing" for NaN. */
export function formatValue(spec: FeatureSpec, v: number): string {
  if (Number.isNaN(v)) return 'missing';
  if (spec.type === 'categorical') return spec.categories?.[v] ?? `#${v}`;
  return Number.isInteger(v) ? String(v) : String(+v.toPrecision(10));
}

/** Stratified k folds (seeded): fold index per row, each fold with the same share of positives (±1). */
export function stratifiedFolds(y: Float64Array, k: number, rng: { shuffle<T extends { length: number; [i: number]: any }>(a: T): T }): Int32Array {
  const fold = new Int32Array(y.length);
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < y.length; i++) (y[i] > 0.5 ? pos : neg).push(i);
  rng.shuffle(pos);
  rng.shuffle(neg);
  pos.forEach((r, i) => (fold[r] = i % k));
  // Continue the round-robin where the positives stopped so fold sizes stay within one row.
  neg.forEach((r, i) => (fold[r] = (i + pos.length) % k));
  return fold;
}
