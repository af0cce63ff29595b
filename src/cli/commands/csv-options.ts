import type { Command } from 'commander';

/** CSV column mapping flags, shared by every command that reads CSV trades. */
export function addCsvOptions(cmd: Command): Command {
  return cmd
    .option('--csv-time <col>', 'CSV: time column (epoch ms/s/us/ns or ISO-8601)', 'time')
    .option('--csv-price <col>', 'CSV: price column', 'price')
    .option('--csv-size <col>', 'CSV: size column', 'size')
    .option('--csv-side <col>', 'CSV: aggressor side column (buy/sell, or true = buyer is maker)')
    .option('--csv-id <col>', 'CSV: trade id column')
    .option('--csv-market <col>', 'CSV: market symbol column')
    .option('--csv-delimiter <char>', 'CSV: field delimiter', ',');
}

export function csvOptionsFrom(o: Record<string, unknown>): Record<string, unknown> {
  return {
    csv: {
      time: o.csvTime,
      price: o.csvPrice,
      size: o.csvSize,
      side: o.csvSide,
      id: o.csvId,
      market: o.csvMarket,
      delimiter: o.csvDelimiter,
    },
  };
}
