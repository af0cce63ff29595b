export * from './schema.js';
export * from './decimal.js';
export * from './validate.js';
export * from './labels.js';
