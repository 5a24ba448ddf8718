import type { Command } from 'commander';
import { registerIdCommands } from './commands/id.ts';
import { registerNodeCommands } from './commands/node.ts';
import { registerVizCommands } from './commands/viz.ts';
import { registerSimCommands } from './commands/sim.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerCheckCommands } from './commands/check.ts';
import { registerAccountCommands } from './commands/account.ts';
import { registerAcceptanceCommands } from './commands/acceptance.ts';
import { registerApplicationCommands } from './commands/application.ts';
import type { Io } from './io.ts';
import { buildProgramWith, runWith, type RegisterCommands } from './program-core.ts';

const ALL_COMMANDS: readonly RegisterCommands[] = [
  registerIdCommands,
  registerNodeCommands,
  registerVizCommands,
  registerSimCommands,
  registerDemoCommand,
  registerCheckCommands,
  registerAccountCommands,
  registerAcceptanceCommands,
  registerApplicationCommands,
];

/** Builds the `cpnet` program writing to `io`. */
export function buildProgram(io: Io): Command {
  return buildProgramWith(io, ALL_COMMANDS);
}

/** Runs the program on argv (as process.argv) and returns the exit code; never throws, never prints a stack trace. */
export function run(argv: readonly string[], io: Io): Promise<number> {
  return runWith(argv, io, ALL_COMMANDS);
}
