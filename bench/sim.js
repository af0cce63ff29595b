import { benchSimulator } from '../dist/sim/bench.js';
import { simulate } from '../dist/sim/simulator.js';
import { best, fmt, table } from './util.js';

/** Simulator throughput on plain traffic, beside JSON.parse of the same events as the machine-speed baseline. */
export const simSection = {
  id: 'sim',
  title: 'Simulator: plain market traffic generated in memory',
  async run() {
    benchSimulator({ duration: '5m' }); // warm-up
    const r = benchSimulator({ duration: '1h' });
    const sample = [];
    simulate({ seed: 42, duration: '10m', abuse: { enabled: false } }, (e) => {
      if (sample.length < 300_000) sample.push(JSON.stringify(e));
    });
    let n = 0; // consumed below so the loop is not optimised away
    const ms = await best(() => {
      for (const l of sample) n += JSON.parse(l).ts > 0 ? 1 : 0;
    }, 3);
    const parsePerSec = (sample.length / ms) * 1000;
    if (n === 0) throw new Error('baseline parsed nothing');
    return [
      'Command: `npm run bench` (section `sim`): `benchSimulator({ duration: "1h" })`, abuse off, events streamed to a counting consumer; CPU time of the process.',
      '',
      table(
        ['figure', 'value', 'ratio'],
        [
          ['events generated', fmt(r.events), ''],
          ['events per CPU-second', fmt(r.eventsPerSecond), `${(r.eventsPerSecond / 1e6).toFixed(2)}× the 1,000,000/s target`],
          ['JSON.parse of the same events, per second (baseline)', fmt(parsePerSec), `simulator = ${(r.eventsPerSecond / parsePerSec).toFixed(2)}× JSON.parse speed`],
          ['exchange time simulated per CPU-second', `${fmt(r.speedup)}×`, ''],
        ],
      ),
    ].join('\n');
  },
};
