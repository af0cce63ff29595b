export * from './events/index.js';
export * from './pipeline/types.js';
export { replay, Fanout, type InputSpec, type ReplayOptions, type ProgressInfo } from './pipeline/replay.js';
export { SummaryCounter, formatSummary, type ReplaySummary } from './pipeline/summary.js';
export { DECODERS, createDecoder, sniffFormat, type DecoderOptions } from './sources/registry.js';
export { openInput, readLines } from './sources/lines.js';
export { NdjsonWriter } from './sinks/ndjson-writer.js';
export { DeadLetterSink, EventSink } from './sinks/dead-letter-sink.js';
