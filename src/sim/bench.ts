import type { ExchangeEvent } from '../events/schema.js';
import type { SimConfigInput } from './config.js';
import { Simulation } from './simulator.js';

export interface SimBenchResult {
  /** Events generated per CPU-second of the simulating process (user + system). */
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

/**
 * Measures in-memory generation of plain market traffic (abuse off): the simulator streams into a
 * consumer that only counts, so the figure is the simulator's own cost. Setup (population,
 * books) is measured separately.
 */
export function benchSimulator(opts: { duration?: string; seed?: number; config?: SimConfigInput } = {}): SimBenchResult {
  let events = 0;
  const consume = (_e: ExchangeEvent) => {
    events++;
  };
  const setupCpu0 = process.cpuUsage();
  const sim = new Simulation({ seed: opts.seed ?? 42, duration: opts.duration ?? '1h', ...opts.config, abuse: { enabled: false } }, consume);
  const setup = process.cpuUsage(setupCpu0);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  sim.run();
  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
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
