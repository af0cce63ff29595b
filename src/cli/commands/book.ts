import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { openInput, readLines } from '../../sources/lines.js';
import {
  LobsterBookReplayer,
  parseLobsterFileName,
  parseLobsterMessage,
  parseLobsterSnapshot,
  type LobsterSnapshot,
} from '../../sources/lobster.js';
import { NdjsonWriter } from '../../sinks/ndjson-writer.js';
import { progressBar } from '../progress.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

const HELP = `
Output: one CSV row per message (blank lines skipped), the book after that message, exactly as LOBSTER
prints its orderbook file: askPrice1,askSize1,bidPrice1,bidSize1,askPrice2,... as integers, empty levels
as 9999999999,0 (ask) and -9999999999,0 (bid).

Orders resting before the first message are unknown. Give the book before the first message with --initial:
  - one LOBSTER orderbook row (any number of levels), e.g. the row before your first message:
      sed -n '1000p' orderbook_10.csv > before.csv; tail -n +1001 message_10.csv > rest.csv
  - and/or resting orders, NDJSON {"id":16113575,"side":"buy","price":5853300,"size":18}
    or CSV with a header naming id,side,price,size (price in LOBSTER units, or a decimal with a '.').
  Orders alone are taken as the complete book; with a row they must fit inside its levels.

Which rows are exact: the snapshot's levels are known (a side shorter than the row: all of that side).
A message file made for L levels (the 10 in _message_10.csv; --file-levels) reports only events inside
its top L levels, so after each message knowledge is cut back to the L-th level, and it never grows back.
A row is exact when its top N levels on both sides are known; there it equals LOBSTER's row. Messages
about unknown orders beyond the known levels are skipped, never guessed. --known-columns appends how many
levels of each side are exact; the summary on stderr counts exact rows.

Example:
  riskloop book --format lobster AAPL_2012-06-21_34200000_57600000_message_10.csv --levels 10 \\
    --initial before.csv --out rebuilt_orderbook_10.csv`;

export function bookCommand(): Command {
  return new Command('book')
    .description('Rebuild the limit order book after every message of a LOBSTER message file, printed in LOBSTER orderbook-file format')
    .argument('<message-file>', 'LOBSTER message file (plain or .gz; - for stdin)')
    .addOption(new Option('-f, --format <format>', 'input format').choices(['lobster']).default('lobster'))
    .option('-l, --levels <n>', 'levels per side in each row (default: the LEVEL in a LOBSTER file name ..._message_LEVEL.csv)', positiveInt)
    .option('--file-levels <n>', 'levels the message file was generated for (default: from its name, else --levels)', positiveInt)
    .option('--initial <file>', 'the book before the first message: an orderbook row and/or resting orders (repeatable)', collect)
    .option('--assume-empty', 'the book is empty before the first message (e.g. data that starts before any order)')
    .option('--tick-divisor <n>', 'price units per dollar for decimal prices in --initial', positiveInt, 10000)
    .option('--out <file>', 'write rows here instead of stdout (.gz compresses)')
    .option('--known-columns', 'append two columns: how many ask and bid levels of the row are exact (N = exact)')
    .option('--dead-letters <file>', 'write malformed message lines with reason and line number as NDJSON')
    .option('-q, --quiet', 'no progress bar and no summary')
    .addHelpText('after', HELP)
    .action(async (file: string, o) => {
      const named = file === '-' ? undefined : parseLobsterFileName(file);
      const levels: number | undefined = o.levels ?? named?.levels;
      if (!levels) throw new Error(`give --levels N (the file name ${JSON.stringify(basename(file))} does not say how many levels it has)`);
      const fileLevels: number = o.fileLevels ?? named?.levels ?? levels;
      if (named?.kind === 'orderbook') throw new Error(`${basename(file)} is an orderbook file; give the message file`);

      const initial: LobsterSnapshot = { orders: [] };
      const initialFiles: string[] = o.initial ?? [];
      for (const path of initialFiles) {
        const s = parseLobsterSnapshot(await readFile(path, 'utf8'), basename(path), o.tickDivisor);
        if (s.row && initial.row) throw new Error(`${path}: a second orderbook row; --initial takes one row in total`);
        if (s.row) initial.row = s.row;
        initial.orders!.push(...(s.orders ?? []));
      }
      const seeded = initialFiles.length > 0;
      if (seeded && !initial.row && initial.orders!.length === 0) {
        throw new Error('--initial holds no orderbook row and no orders; for a book that starts empty use --assume-empty');
      }
      const replayer = new LobsterBookReplayer({ levels, fileLevels, initial: seeded ? initial : undefined, assumeEmpty: o.assumeEmpty });

      const out = new NdjsonWriter(o.out ?? '-');
      const deadLetters = o.deadLetters ? new NdjsonWriter(o.deadLetters) : undefined;
      const total = file === '-' ? 0 : (await stat(file)).size;
      const bar = progressBar(total, 'book', { quiet: o.quiet, unit: 'bytes' });
      const source = file === '-' ? 'stdin' : basename(file);
      let rows = 0;
      let malformed = 0;
      let firstMalformed = '';
      let done = 0;
      for await (const batch of readLines(await openInput(file))) {
        for (let i = 0; i < batch.lines.length; i++) {
          const line = batch.lines[i];
          if (line.length === 0 || line.trim() === '') continue;
          const m = parseLobsterMessage(line);
          if (typeof m === 'string') {
            // The row stays (files stay aligned), but an unreadable event may have changed anything.
            malformed++;
            const lineNo = batch.firstLine + i;
            if (!firstMalformed) firstMalformed = `line ${lineNo}: ${m}`;
            deadLetters?.write({ source, line: lineNo, format: 'lobster', reason: m, raw: line.length > 2048 ? line.slice(0, 2048) + '…' : line });
            replayer.forget();
          } else {
            replayer.apply(m);
          }
          rows++;
          out.writeLine(o.knownColumns ? `${replayer.row()},${replayer.knownLevels('sell')},${replayer.knownLevels('buy')}` : replayer.row());
        }
        await out.drain();
        done += batch.bytes;
        bar.update(Math.min(done, total), { detail: `${rows} rows` });
      }
      bar.stop();
      await out.close();
      await deadLetters?.close();
      if (o.quiet) return;

      const s = replayer.stats;
      const pct = rows ? ` (${((100 * s.knownRows) / rows).toFixed(1)}%)` : '';
      const lines = [
        `book: ${rows} rows of ${levels} levels from ${source}; ${s.knownRows} rows exact${pct}`,
        `  messages about orders resting before the file: ${s.unknownOrders} (${s.matchedToSnapshot} matched to the initial snapshot, ${s.beyondKnown} beyond the known levels, skipped)`,
        `  inconsistencies: ${s.inconsistencies}; malformed lines: ${malformed}${firstMalformed ? ` (first: ${firstMalformed})` : ''}`,
      ];
      if (!seeded && !o.assumeEmpty) lines.push('  no --initial: the book before the first message is unknown, so no row can be guaranteed (see --help)');
      if (levels > fileLevels) lines.push(`  note: ${levels} levels requested but the file only reports its top ${fileLevels}; deeper levels are never exact`);
      process.stderr.write(lines.join('\n') + '\n');
    });
}
