#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// A closed pipe (e.g. `| head`) is a normal end of output, not a crash.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv).catch((err) => {
  process.stderr.write(`riskloop: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
