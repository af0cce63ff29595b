// On-chain exposure: address labels, transfer graphs, taint models, screening, UTXO clustering. See docs/graph.md.
export * from './address.js';
export * from './labels.js';
export * from './transfers.js';
export * from './exposure.js';
export * from './screening.js';
export * from './utxo-clustering.js';
