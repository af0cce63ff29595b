import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo/run.js';
import { formatDemoReport } from '../src/demo/format.js';
import { demoStages } from '../src/demo/stages.js';
import { cli } from './helpers/cli.js';

describe('riskloop demo', () => {
  it('streams every simulated event through ingestion; corrupted records all land in dead letters', async () => {
    const r = await runDemo({ seed: 11, duration: '6m', faultRate: 1 / 2000 });
    expect(r.events).toBeGreaterThan(10_000);
    expect(r.injectedFaults).toBeGreaterThan(5);
    // Nothing vanishes: every record is either accepted or a dead letter.
    expect(r.summary.accepted + r.summary.rejected).toBe(r.events);
    expect(r.deadLetters).toHaveLength(r.injectedFaults);
    expect(r.deadLetters.every((d) => d.source === 'simulator' && d.line >= 1 && d.line <= r.events && d.reason.length > 0)).toBe(true);
    expect(r.summary.acceptedByType.trade).toBeGreaterThan(100);
    expect(Object.keys(r.summary.acceptedByMarket)).toContain('BTCUSDT-PERP');
  }, 180_000);

  it('is deterministic for a seed', async () => {
    const a = await runDemo({ seed: 5, duration: '3m' });
    const b = await runDemo({ seed: 5, duration: '3m' });
    expect(a.summary).toEqual(b.summary);
    expect(a.deadLetters).toEqual(b.deadLetters);
  }, 180_000);

  it('prints a report from the CLI, and JSON with --json', async () => {
    const r = await runDemo({ seed: 3, duration: '2m', stages: await demoStages() });
    const text = formatDemoReport(r);
    expect(text).toMatch(/## Events by type and market/);
    expect(text).toMatch(/## Injected abuse \(ground truth\)/);
    expect(text).toMatch(/## Dead letters/);
    expect(text).toMatch(/## Trade surveillance/);
    const j = JSON.parse((await cli(['demo', '--duration', '2m', '--seed', '3', '--json'])).stdout);
    expect(j.summary).toEqual(JSON.parse(JSON.stringify(r.summary)));
    expect(j.summary.accepted + j.summary.rejected).toBe(j.events);
    expect(Object.keys(j.episodesByTypology)).toHaveLength(11);
  }, 240_000);
});
