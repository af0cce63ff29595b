// Graph intelligence: the entity graph, its algorithms, AMLSim scanning. See docs/graph.md.
export * from './entity-graph.js';
export * from './links.js';
export * from './features.js';
export * from './csr.js';
export * from './graph-csr.js';
export * from './metrics.js';
export * from './amlsim.js';
export { mulberry32 } from './rng.js';
export * from './algorithms/louvain.js';
export * from './algorithms/linked-clusters.js';
export * from './algorithms/collusive-rings.js';
export * from './algorithms/sybil-farms.js';
export * from './algorithms/risk-propagation.js';
export * from './algorithms/account-features.js';
export * from './algorithms/flow-anomaly.js';
