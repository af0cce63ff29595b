/**
 * Versioned model artifacts. An artifact is a directory:
 *
 *   model.json     what scores: { format, formatVersion, type, params, model, calibration? }
 *   metadata.json  version label, data fingerprint (sha256 of the training file's bytes + column list),
 *                  features, target, metrics, training parameters, the training score distribution (for PSI)
 *
 * Both files are deterministic: the same data and parameters give byte-identical files, except the
 * version label when one is given explicitly (the default label is derived from model.json's hash).
 *
 * A models directory holds artifacts plus registry.json: the registered versions and the aliases
 * (champion, challenger, …) that point at them. `dir@alias` or `dir@version` names a model through it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { FeatureSpec } from './data.js';
import type { ScoreDistribution } from './metrics.js';
import { ScoringModel, type ModelJSON } from './model.js';

export interface ModelMetadata {
  version: string;
  type: ModelJSON['type'];
  createdFrom: {
    /** sha256 over the training file's bytes and its column list; absent for imported models. */
    fingerprint?: string;
    file?: string;
    columns?: string[];
    rows?: number;
    /** For imports: sha256 of the imported file. */
    importedSha256?: string;
  };
  features: FeatureSpec[];
  target?: string;
  metrics: Record<string, unknown>;
  trainingParams: Record<string, unknown>;
  trainingScores?: ScoreDistribution;
  /** Model hash: sha256 of model.json. */
  modelSha256: string;
}

export type MetadataInput = Omit<ModelMetadata, 'version' | 'modelSha256' | 'type'> & { version?: string };

export interface Artifact {
  dir: string;
  model: ScoringModel;
  metadata: ModelMetadata;
}

/** JSON with a trailing newline; NaN/±Infinity become null (JSON has neither). */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2) + '\n';
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Writes model.json and metadata.json into `dir`; returns the metadata written. */
export function writeArtifact(dir: string, model: ModelJSON, meta: MetadataInput): ModelMetadata {
  mkdirSync(dir, { recursive: true });
  const modelText = stableJson(model);
  const hash = sha256(modelText);
  const { version, ...rest } = meta;
  const metadata: ModelMetadata = { version: version ?? `${model.type}-${hash.slice(0, 12)}`, type: model.type, ...rest, modelSha256: hash };
  writeAtomic(join(dir, 'model.json'), modelText);
  writeAtomic(join(dir, 'metadata.json'), stableJson(metadata));
  return metadata;
}

/** Loads an artifact directory, or `modelsDir@alias` / `modelsDir@version` through the registry. */
export function loadArtifact(ref: string): Artifact {
  const dir = resolveModelRef(ref);
  const modelFile = join(dir, 'model.json');
  if (!existsSync(modelFile)) throw new Error(`${dir} is not a model artifact (no model.json)`);
  const text = readFileSync(modelFile, 'utf8');
  const json = JSON.parse(text, (_k, x) => x) as ModelJSON;
  const metaFile = join(dir, 'metadata.json');
  const metadata: ModelMetadata = existsSync(metaFile)
    ? JSON.parse(readFileSync(metaFile, 'utf8'))
    : { version: 'unversioned', type: json.type, createdFrom: {}, features: [], metrics: {}, trainingParams: {}, modelSha256: sha256(text) };
  if (metadata.modelSha256 && metadata.modelSha256 !== sha256(text)) {
    throw new Error(`${modelFile} does not match the hash in metadata.json (edited or corrupted)`);
  }
  return { dir, model: new ScoringModel(restoreNulls(json)), metadata };
}

/** Thresholds of ±∞ were written as null; trees need them back as numbers. */
function restoreNulls(json: ModelJSON): ModelJSON {
  const m = json.model as any;
  if (m.kind === 'tree-ensemble') for (const t of m.trees) t.threshold = t.threshold.map((v: number | null) => (v === null ? Infinity : v));
  if (m.kind === 'scorecard') {
    for (const fb of [...m.binnings, ...m.model.map((f: any) => f.binning)]) {
      for (const b of fb.bins) {
        if (b.kind !== 'range') continue;
        if (b.lo === null) b.lo = -Infinity;
        if (b.hi === null) b.hi = Infinity;
      }
    }
  }
  return json;
}

export interface Registry {
  /** version → artifact directory, relative to the models directory. */
  versions: Record<string, string>;
  /** alias (champion, challenger, …) → version. */
  aliases: Record<string, string>;
}

function registryFile(modelsDir: string): string {
  return join(modelsDir, 'registry.json');
}

export function readRegistry(modelsDir: string): Registry {
  const f = registryFile(modelsDir);
  if (!existsSync(f)) return { versions: {}, aliases: {} };
  return JSON.parse(readFileSync(f, 'utf8'));
}

function writeRegistry(modelsDir: string, r: Registry): void {
  mkdirSync(modelsDir, { recursive: true });
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  writeAtomic(registryFile(modelsDir), stableJson({ versions: sorted(r.versions), aliases: sorted(r.aliases) }));
}

/** Registers an artifact under its version label (and optionally an alias). */
export function registerArtifact(modelsDir: string, artifactDir: string, alias?: string): string {
  const meta = JSON.parse(readFileSync(join(artifactDir, 'metadata.json'), 'utf8')) as ModelMetadata;
  const r = readRegistry(modelsDir);
  const rel = relative(resolve(modelsDir), resolve(artifactDir)) || '.';
  const existing = r.versions[meta.version];
  if (existing !== undefined && existing !== rel) throw new Error(`version ${meta.version} is already registered at ${existing}`);
  r.versions[meta.version] = rel;
  if (alias) r.aliases[alias] = meta.version;
  writeRegistry(modelsDir, r);
  return meta.version;
}

export function setAlias(modelsDir: string, alias: string, version: string): void {
  const r = readRegistry(modelsDir);
  if (!(version in r.versions)) throw new Error(`no version ${version} in ${registryFile(modelsDir)} (registered: ${Object.keys(r.versions).join(', ') || 'none'})`);
  r.aliases[alias] = version;
  writeRegistry(modelsDir, r);
}

/** `dir` → dir; `modelsDir@alias` or `modelsDir@version` → the registered artifact's directory. */
export function resolveModelRef(ref: string): string {
  const at = ref.lastIndexOf('@');
  if (at <= 0 || existsSync(join(ref, 'model.json'))) return ref;
  const modelsDir = ref.slice(0, at);
  const name = ref.slice(at + 1);
  const r = readRegistry(modelsDir);
  const version = r.aliases[name] ?? name;
  const rel = r.versions[version];
  if (rel === undefined) throw new Error(`no alias or version "${name}" in ${registryFile(modelsDir)}`);
  return join(modelsDir, rel);
}
