import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExchangeEvent } from '../events/schema.js';
import { NdjsonWriter } from '../sinks/ndjson-writer.js';
import type { SimConfig, SimConfigInput } from './config.js';
import { Simulation, type SimResult } from './simulator.js';

export interface WriteOptions {
  gzip?: boolean;
  /** Event time simulated per chunk between writer flushes (default one minute). */
  chunkMs?: number;
  /** Called after each chunk with the event time reached. */
  onProgress?: (now: number, sim: Simulation) => void;
  /** Sees every event too (e.g. a summary counter). */
  onEvent?: (e: ExchangeEvent) => void;
}

export interface Manifest {
  generator: string;
  seed: number;
  durationMs: number;
  startTime: number;
  startTimeIso: string;
  endTime: number;
  files: { events: string; labels: string };
  events: number;
  countsByType: Record<string, number>;
  episodes: number;
  episodesByTypology: Record<string, number>;
  config: SimConfig;
}

export interface WriteResult {
  result: SimResult;
  manifest: Manifest;
  files: { events: string; labels: string; manifest: string };
}

/**
 * Runs a simulation into DIR: events.ndjson (or .ndjson.gz), labels.ndjson (one episode per line,
 * by start time) and manifest.json. Simulates in chunks of event time and waits for the writer
 * between chunks, so memory stays flat however long the run. The output depends only on the
 * config: same seed, same bytes.
 */
export async function writeSimulation(config: SimConfigInput | SimConfig, dir: string, opts: WriteOptions = {}): Promise<WriteResult> {
  await mkdir(dir, { recursive: true });
  const eventsName = opts.gzip ? 'events.ndjson.gz' : 'events.ndjson';
  const eventsPath = join(dir, eventsName);
  const writer = new NdjsonWriter(eventsPath, { gzip: opts.gzip === true });
  const tap = opts.onEvent;
  const sim = new Simulation(config, (e) => {
    writer.writeLine(JSON.stringify(e));
    if (tap) tap(e);
  });
  const chunk = opts.chunkMs ?? 60_000;
  for (let t = sim.startTime + chunk; ; t += chunk) {
    const more = sim.step(t);
    await writer.drain();
    opts.onProgress?.(Math.min(t, sim.endTime), sim);
    if (!more) break;
  }
  await writer.close();
  const result = sim.result();
  const labelsPath = join(dir, 'labels.ndjson');
  await writeFile(labelsPath, result.episodes.map((e) => JSON.stringify(e)).join('\n') + (result.episodes.length ? '\n' : ''));
  const manifest: Manifest = {
    generator: 'riskloop simulate',
    seed: result.seed,
    durationMs: result.durationMs,
    startTime: result.startTime,
    startTimeIso: new Date(result.startTime).toISOString(),
    endTime: result.endTime,
    files: { events: eventsName, labels: 'labels.ndjson' },
    events: result.events,
    countsByType: result.countsByType,
    episodes: result.episodes.length,
    episodesByTypology: result.episodesByTypology,
    config: result.config,
  };
  const manifestPath = join(dir, 'manifest.json');
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return { result, manifest, files: { events: eventsPath, labels: labelsPath, manifest: manifestPath } };
}
