/** The exchange simulator: streaming API, config, output and benchmark. */
export { Simulation, simulate, type SimResult } from './simulator.js';
export { defaultConfig, resolveConfig, parseDuration, startTimeFor, SimConfigFile, type SimConfig, type SimConfigInput, type TypologyConfig, type PopulationConfig } from './config.js';
export { writeSimulation, type Manifest, type WriteOptions, type WriteResult } from './output.js';
export { benchSimulator, type SimBenchResult } from './bench.js';
export { INJECTORS, injectorFor } from './abuse/index.js';
export { DEFAULT_MARKETS, DEFAULT_ASSETS, type MarketSpec, type AssetSpec } from './markets.js';
export { FUNDING_INTERVAL_MS, SETTLEMENT_WINDOW_MS, nextFundingTime, indexSymbol } from './venue.js';
