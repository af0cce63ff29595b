import type { ExchangeEvent } from '../events/schema.js';
import type { SimConfigInput } from './config.js';
import { Simulation } from './simulator.js';

export interface SimBenchResult {
  /** Events generated per CPU-second of the simulating process (user + system, GC threads included). */
  eventsPerSecond: number;
  /** Events per wall-clock second (lower than the CPU figure on a busy machine). */
  eventsPerWallSecond: number;
  events: number;
  cpuMs: number;
  wallMs: number;
  /** Simulated event time covered. */
  simulatedMs: number;
  /** Event time simulated per CPU-second. */
  speedup: number;
  setupMs: number;
}

export interface SimBenchOptions {
  duration?: string;
  seed?: number;
  config?: SimConfigInput;
  /** Inject abuse with the default typology rates (default: off, plain market traffic). */
  abuse?: boolean;
  /** The consumer serialises every event with JSON.stringify (what `riskloop simulate` does before writing). */
  serialize?: boolean;
}

/**
 * Measures in-memory generation: the simulator streams into a consumer that only counts (or
 * serialises), so the figure is the simulator's own cost. Setup (population, books) is measured
 * separately. Plain market traffic unless `abuse` is set.
 */
export function benchSimulator(opts: SimBenchOptions = {}): SimBenchResult {
  let events = 0;
  let chars = 0;
  const consume = opts.serialize
    ? (e: ExchangeEvent) => {
        events++;
        chars += JSON.stringify(e).length;
      }
    : (_e: ExchangeEvent) => {
        events++;
      };
  const setupCpu0 = process.cpuUsage();
  const abuse = opts.abuse ? { ...opts.config?.abuse, enabled: true } : { enabled: false };
  const sim = new Simulation({ seed: opts.seed ?? 42, duration: opts.duration ?? '1h', ...opts.config, abuse }, consume);
  const setup = process.cpuUsage(setupCpu0);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  sim.run();
  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  if (opts.serialize && chars === 0 && events > 0) throw new Error('serialised nothing');
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const simulatedMs = sim.endTime - sim.startTime;
  return {
    eventsPerSecond: Math.round(events / (cpuMs / 1000)),
    eventsPerWallSecond: Math.round(events / (wallMs / 1000)),
    events,
    cpuMs: Math.round(cpuMs),
    wallMs: Math.round(wallMs),
    simulatedMs,
    speedup: Math.round(simulatedMs / cpuMs),
    setupMs: Math.round((setup.user + setup.system) / 1000),
  };
}

/**
 * The bare baseline: builds `count` events (shallow copies of the given ones, cycling) and hands
 * them to a counting consumer, or serialises them, without any simulation. Events per CPU-second.
 */
export function benchBareEvents(sample: readonly ExchangeEvent[], count: number, serialize: boolean): number {
  if (sample.length === 0) throw new Error('empty sample');
  let sink = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0, j = 0; i < count; i++, j = j + 1 === sample.length ? 0 : j + 1) {
    const e = { ...sample[j], seq: i };
    sink += serialize ? JSON.stringify(e).length : e.seq === i ? 1 : 0;
  }
  const cpu = process.cpuUsage(cpu0);
  if (sink === 0) throw new Error('baseline produced nothing');
  return Math.round(count / ((cpu.user + cpu.system) / 1e6));
}
