import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { benchBareEvents, benchSimulator } from '../dist/sim/bench.js';
import { simulate } from '../dist/sim/simulator.js';
import { fmt, gc, table } from './util.js';

const TARGET = 1_000_000;
/** Exchange time of the headline run (about 5.4 million events of plain traffic). */
const LONG = '6h';

/** Exchange time of the fresh-process run: the "10-million-event day". */
const DAY = '1d';

/**
 * One simulation in a fresh `node` process, as `riskloop simulate` runs it: the child measures its
 * own process.cpuUsage() (every thread) around the run, setup excluded, and prints the result.
 */
function freshProcess(duration) {
  const url = new URL('../dist/sim/bench.js', import.meta.url).href;
  const code = `import { benchSimulator } from ${JSON.stringify(url)};
process.stdout.write(JSON.stringify(benchSimulator({ duration: ${JSON.stringify(duration)} })));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out);
}

/** Best (highest events per CPU-second) of `n` fresh processes. */
function bestFresh(n, duration) {
  let top;
  for (let i = 0; i < n; i++) {
    const r = freshProcess(duration);
    if (!top || r.eventsPerSecond > top.eventsPerSecond) top = r;
  }
  return top;
}

/** Best (highest events per CPU-second) of `n` runs: the least disturbed by other load. */
function bestOf(n, run) {
  let top;
  for (let i = 0; i < n; i++) {
    gc();
    const r = run();
    if (!top || r.eventsPerSecond > top.eventsPerSecond) top = r;
  }
  return top;
}

/**
 * Simulator throughput in events per CPU-second (process.cpuUsage: user + system, GC threads
 * included), plain traffic and with abuse, against the 1,000,000/s target and against bare loops
 * measured in the same run that only construct (or construct and JSON-serialise) as many events.
 */
export const simSection = {
  id: 'sim',
  title: 'Simulator: events generated per CPU-second, plain traffic and with abuse',
  async run() {
    const loadAvg = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
    // The headline: a whole day in a fresh process each time, best of 2 (nothing of this process's JIT state helps it).
    const day = bestFresh(2, DAY);
    benchSimulator({ duration: '5m' }); // warm-up
    // A long run in this process, as before; its JIT warm-up is included but amortised.
    const long = bestOf(2, () => benchSimulator({ duration: LONG }));
    const plain = bestOf(2, () => benchSimulator({ duration: '1h' }));
    const abuse = bestOf(2, () => benchSimulator({ duration: '1h', abuse: true }));
    const serialised = bestOf(2, () => benchSimulator({ duration: '1h', serialize: true }));
    const sample = [];
    simulate({ seed: 42, duration: '10m', abuse: { enabled: false } }, (e) => sample.push(e));
    const bestBare = (serialize) => {
      let top = 0;
      for (let i = 0; i < 3; i++) {
        gc();
        top = Math.max(top, benchBareEvents(sample, plain.events, serialize));
      }
      return top;
    };
    const bare = bestBare(false);
    const bareJson = bestBare(true);
    const target = (r) => `${(r / TARGET).toFixed(2)}×`;
    return [
      'Command: `node --expose-gc bench/run.js sim`. `benchSimulator()` (src/sim/bench.ts), seed 42, plain traffic unless stated, events streamed to a consumer that counts them (or JSON-serialises them). Events per CPU-second of the whole simulating process (`process.cpuUsage()`: user + system, GC and compiler threads included), setup (population, books) excluded.',
      '',
      'Headline: **a whole simulated day in a fresh process**, what a user running a day\'s simulation lives: the bench spawns a new `node` per run that calls `benchSimulator({ duration: \'1d\' })` and reports its own CPU time; best of 2 processes (the least disturbed by other load on the machine). Its JIT warm-up is included, once, as in any real run. The other rows run in the bench process, best of 2 runs, each after a full `gc()`.',
      '',
      'Each run pays a start-up cost that a long run amortises: after the full `gc()` (with the previous simulation garbage) V8 rebuilds most of its optimised code (`--trace-opt`: ≈ 300 functions re-optimised in a 1-hour run after a `gc()`, ≈ 80 without; compiler threads count in the CPU time). In 6-minute slices a 1-hour run goes from 0.25–0.4 M events per CPU-second in its first slice to 1.3–1.8 M in its last (load 8–13). A fresh process pays it once too, with nothing to rebuild; so the day in a fresh process is the figure for the issue\'s "10-million-event day", and the 6-hour and 1-hour runs are kept for continuity with earlier figures.',
      '',
      'Baselines in the same run (`benchBareEvents`): a loop that only builds as many events (shallow copies of 10 minutes of the simulator\'s own output, so the same mix of types and sizes) and counts them, or builds and JSON-serialises them. They bound what any generator of these events can reach here.',
      '',
      table(
        ['workload', 'events', 'events per CPU-second', 'vs 1,000,000/s target', 'vs bare baseline (same run)'],
        [
          [`plain market traffic, a whole day (${DAY}) in a fresh process, counting consumer`, fmt(day.events), fmt(day.eventsPerSecond), target(day.eventsPerSecond), `${(day.eventsPerSecond / bare).toFixed(3)}× the bare build loop`],
          [`plain market traffic, ${LONG} run, counting consumer`, fmt(long.events), fmt(long.eventsPerSecond), target(long.eventsPerSecond), `${(long.eventsPerSecond / bare).toFixed(3)}× the bare build loop`],
          ['plain market traffic, 1h run, counting consumer', fmt(plain.events), fmt(plain.eventsPerSecond), target(plain.eventsPerSecond), `${(plain.eventsPerSecond / bare).toFixed(3)}× the bare build loop`],
          ['with abuse (default rates), 1h run, counting consumer', fmt(abuse.events), fmt(abuse.eventsPerSecond), target(abuse.eventsPerSecond), `${(abuse.eventsPerSecond / bare).toFixed(3)}× the bare build loop`],
          ['plain market traffic, 1h run, every event JSON-serialised', fmt(serialised.events), fmt(serialised.eventsPerSecond), target(serialised.eventsPerSecond), `${(serialised.eventsPerSecond / bareJson).toFixed(3)}× the bare build + serialise loop`],
          ['baseline: bare loop building the events', fmt(plain.events), fmt(bare), target(bare), '1×'],
          ['baseline: bare loop building and serialising the events', fmt(plain.events), fmt(bareJson), target(bareJson), '1×'],
        ],
      ),
      '',
      `Whole day in a fresh process: ${fmt(day.cpuMs / 1000, 1)} s CPU, ${fmt(day.wallMs / 1000, 1)} s wall, setup ${fmt(day.setupMs)} ms CPU (not counted); exchange time simulated per CPU-second ${fmt(day.speedup)}×. Load average at the start of this section: ${loadAvg}.`,
      '',
      `Exchange time simulated per CPU-second (plain, ${LONG} run): ${fmt(long.speedup)}×; setup (population, books) ${fmt(long.setupMs)} ms CPU, not counted. Wall-clock rate of that run: ${fmt(long.eventsPerWallSecond)} events/s (the machine is shared; CPU time is the comparable figure).`,
    ].join('\n');
  },
};
