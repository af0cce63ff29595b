import type { DemoStage } from './run.js';

export interface StageOptions {
  /** Where live lines go (alerts as they fire, score changes); undefined keeps quiet. */
  live?: (line: string) => void;
}

/** Every capability riskloop has plugs into the demo here. */
export async function demoStages(_opts: StageOptions = {}): Promise<DemoStage[]> {
  return [];
}
