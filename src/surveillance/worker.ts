import { parentPort, workerData } from 'node:worker_threads';
import type { Alert } from './alert.js';
import type { FromWorker, ToWorker, WorkerInit } from './engine.js';

/**
 * A surveillance partition in a worker thread (see engine.ts). Modules are imported dynamically so
 * a failure to load them is reported to the main thread (which may be blocked on flow control).
 */
async function run(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  const progress = new Int32Array(init.progress);
  const i = init.partition.index;
  const n = init.partition.count;
  try {
    const { loadPlugins } = await import('./config.js');
    const { BUILTIN_DETECTORS } = await import('./detectors/index.js');
    const { PartitionRuntime } = await import('./runtime.js');
    const registry = [...BUILTIN_DETECTORS, ...(await loadPlugins(init.plugins))];
    let pending: Alert[] = [];
    const rt = new PartitionRuntime(init.config, registry, (a) => pending.push(a), init.partition);
    const flushAlerts = () => {
      if (pending.length > 0) {
        port.postMessage({ kind: 'alerts', alerts: pending } satisfies FromWorker);
        pending = [];
      }
    };
    port.postMessage({ kind: 'ready', detectors: rt.detectors.map((d) => d.def.name) } satisfies FromWorker);
    port.on('message', (m: ToWorker) => {
      try {
        if (m.kind === 'batch') {
          const { events, clocks, late } = m;
          for (let k = 0; k < events.length; k++) {
            rt.advance(clocks[k]);
            rt.process(events[k], late[k] === 1);
          }
          rt.advance(m.wm);
          flushAlerts();
          Atomics.add(progress, i, 1);
          Atomics.notify(progress, i);
        } else {
          rt.end(m.wm);
          flushAlerts();
          port.postMessage({ kind: 'done', stats: rt.getStats() } satisfies FromWorker);
        }
      } catch (err) {
        Atomics.store(progress, n + i, 1);
        Atomics.notify(progress, i);
        port.postMessage({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker);
      }
    });
  } catch (err) {
    Atomics.store(progress, n + i, 1);
    Atomics.notify(progress, i);
    port.postMessage({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker);
  }
}

void run();
