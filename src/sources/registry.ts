import type { Decoder } from '../pipeline/types.js';
import { NdjsonDecoder } from './ndjson.js';
import { LobsterDecoder } from './lobster.js';
import { BinanceDecoder } from './binance.js';
import { BitgetDecoder } from './bitget.js';
import { CsvTradeDecoder } from './csv-trades.js';

/** Options shared by decoders; each reads what it needs. */
export interface DecoderOptions {
  /** Source label written into events' `source` field and dead letters. */
  source?: string;
  /** Market symbol for formats that do not carry one (LOBSTER, CSV). */
  market?: string;
  /** Format-specific settings, e.g. CSV column mapping. */
  [key: string]: unknown;
}

export type DecoderFactory = (opts: DecoderOptions) => Decoder;

/** Every input format riskloop reads. Each decoder lives in its own module. */
export const DECODERS: Record<string, DecoderFactory> = {
  ndjson: () => new NdjsonDecoder(),
  lobster: (o) => new LobsterDecoder(o),
  // The engine keeps its own books from the emitted events; the decoder's would be a second copy.
  binance: (o) => new BinanceDecoder({ books: false, ...(o as ConstructorParameters<typeof BinanceDecoder>[0]) }),
  bitget: () => new BitgetDecoder(),
  csv: (o) => new CsvTradeDecoder(o as ConstructorParameters<typeof CsvTradeDecoder>[0]),
};

export const FORMATS = () => Object.keys(DECODERS);

/** Guesses a format from the first lines of a source (headers such as cryptofeed's `configuration:` are skipped). */
export function sniffFormat(firstLines: string | readonly string[]): string | undefined {
  const lines = (typeof firstLines === 'string' ? [firstLines] : firstLines).map((l) => l.trimStart()).filter((l) => l !== '' && !l.startsWith('configuration:'));
  const l = lines[0];
  if (l === undefined) return undefined;
  if (/^\d{16,20} [{[]/.test(l)) return 'binance';
  if (/^wss:\/\/\S*bitget/.test(l) || /^\d{10}(\.\d+)?: [{[]/.test(l) || /"instType"\s*:\s*"(sp|mc|SP|MC|umcbl|UMCBL)"/.test(l)) return 'bitget';
  if (l.startsWith('{')) {
    // Canonical events carry "type"; Binance payloads (with or without the stream envelope) carry "e" or "stream" or a book ticker's u/s/b/a.
    if (/"type"\s*:\s*"/.test(l)) return 'ndjson';
    if (/^\{"stream":/.test(l) || /"e"\s*:\s*"(trade|aggTrade|depthUpdate|bookTicker|markPriceUpdate|forceOrder|kline|24hrTicker)"/.test(l) || /^\{"(u|lastUpdateId)":\d+,/.test(l)) return 'binance';
    return 'ndjson';
  }
  if (/^\d+(\.\d+)?,[1-7],\d+,\d+,-?\d+,-?1(,.*)?\s*$/.test(l)) return 'lobster';
  if (/^[A-Za-z_"][^,;]*([,;][^,;]*)+$/.test(l)) return 'csv';
  return undefined;
}

export function createDecoder(format: string, opts: DecoderOptions = {}): Decoder {
  const f = DECODERS[format];
  if (!f) throw new Error(`unknown format "${format}"; known formats: ${FORMATS().join(', ')}`);
  return f(opts);
}
