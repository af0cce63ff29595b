import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo/run.js';
import { graphStage } from '../src/demo/graph-stage.js';

interface GraphSection {
  rings: { members: string[]; label: string | null }[];
  farms: { members: string[]; label: string | null }[];
  groundTruth: { collusiveWash: { labels: number; found: number }; fakeTraffic: { labels: number; found: number } };
  riskPropagation: { account: string }[];
}

describe('demo graph stage', () => {
  it('finds the injected collusive rings and sybil farms in the entity graph, with members, against the ground truth', async () => {
    const r = await runDemo({
      seed: 3,
      duration: '25m',
      faultRate: 0,
      stages: [graphStage()],
      sim: {
        trafficScale: 0.5,
        population: { retail: 1500, savers: 150, borrowers: 60, algos: 30, momentum: 20, signupsPerHour: 20 },
        abuse: {
          warmupMs: 180_000,
          typologies: {
            ...Object.fromEntries(['spoofing', 'layering', 'pump_and_dump', 'ramping', 'marking_the_close', 'quote_stuffing', 'fat_finger', 'cross_market_manipulation', 'collateral_abuse'].map((t) => [t, { intensity: 0 }])),
            wash_trading: { intensity: 4 },
            fake_traffic: { intensity: 4 },
          },
        },
      } as never,
    });
    const s = r.sections[0];
    const j = s.json as GraphSection;
    const wash = r.episodes.filter((e) => e.typology === 'wash_trading' && e.variant !== 'self_trade');
    const farms = r.episodes.filter((e) => e.typology === 'fake_traffic');
    expect(wash.length).toBeGreaterThan(0);
    expect(farms.length).toBeGreaterThan(0);
    expect(j.groundTruth.collusiveWash.labels).toBe(wash.length);
    // Every injected episode found; everything found is injected abuse.
    expect(j.groundTruth.collusiveWash.found).toBe(wash.length);
    expect(j.groundTruth.fakeTraffic.found).toBe(farms.length);
    expect(j.rings.every((x) => x.label !== null)).toBe(true);
    expect(j.farms.every((x) => x.label !== null)).toBe(true);
    for (const ring of j.rings) expect(wash.find((e) => e.id === ring.label)!.accounts).toEqual(expect.arrayContaining(ring.members));
    expect(j.riskPropagation.length).toBeGreaterThan(0);
    expect(s.text).toMatch(/Collusive rings: \d+ found; \d+ of \d+ injected/);
    expect(s.text).toContain(j.rings[0].members[0]);
  }, 120_000);
});
