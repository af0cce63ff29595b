import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo/run.js';
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
  });

  it('is deterministic for a seed', async () => {
    const a = await runDemo({ seed: 5, duration: '3m' });
    const b = await runDemo({ seed: 5, duration: '3m' });
    expect(a.summary).toEqual(b.summary);
    expect(a.deadLetters).toEqual(b.deadLetters);
  });

  it('prints a report from the CLI, and JSON with --json', async () => {
    const { stdout } = await cli(['demo', '--duration', '4m', '--seed', '3', '-q']);
    expect(stdout).toMatch(/## Events by type and market/);
    expect(stdout).toMatch(/## Injected abuse \(ground truth\)/);
    expect(stdout).toMatch(/## Dead letters/);
    const j = JSON.parse((await cli(['demo', '--duration', '4m', '--seed', '3', '--json'])).stdout);
    expect(j.summary.accepted + j.summary.rejected).toBe(j.events);
    expect(Object.keys(j.episodesByTypology)).toHaveLength(11);
  });
});
