import { Command } from 'commander';
import { replayCommand } from './commands/replay.js';
import { graphCommand } from './commands/graph.js';
import { demoCommand } from './commands/demo.js';
import { bookCommand } from './commands/book.js';
import { schemaCommand } from './commands/schema.js';
import { simulateCommand } from './commands/simulate.js';
import { evalCommand } from './commands/eval.js';
import { scoreCommand } from './commands/score.js';
import { rulesCommand } from './commands/rules.js';
import { policyCommand } from './commands/policy.js';

export function buildProgram(): Command {
  const program = new Command('riskloop')
    .description('Real-time risk control for cryptocurrency exchanges')
    .version('0.1.0')
    .showHelpAfterError()
    .enablePositionalOptions() // --version only before a command, so `policy show NAME --version N` reaches policy
    .configureHelp({ sortSubcommands: true });
  program.addCommand(demoCommand());
  program.addCommand(replayCommand());
  program.addCommand(graphCommand());
  program.addCommand(bookCommand());
  program.addCommand(schemaCommand());
  program.addCommand(simulateCommand());
  program.addCommand(evalCommand());
  program.addCommand(scoreCommand());
  program.addCommand(rulesCommand());
  program.addCommand(policyCommand());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
