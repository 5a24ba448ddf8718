import { Command, CommanderError } from 'commander';
import { EXIT } from '@cpnet/protocol';
import { registerIdCommands } from './commands/id.ts';
import { registerNodeCommands } from './commands/node.ts';
import { registerVizCommands } from './commands/viz.ts';
import { registerSimCommands } from './commands/sim.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerCheckCommands } from './commands/check.ts';
import { CliExit } from './exit.ts';
import type { Io } from './io.ts';

/** Builds the `cpnet` program writing to `io`. */
export function buildProgram(io: Io): Command {
  const program = new Command('cpnet')
    .description(
      'cpnet — reference implementation and simulation testbed of the national compute-power interconnection node system (国家算力互联互通节点体系)',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  program.addHelpText(
    'after',
    '\nExit codes: 0 success; 1 a check or expectation failed; 2 invalid input or usage; 3 the environment failed.',
  );
  registerIdCommands(program, io);
  registerNodeCommands(program, io);
  registerVizCommands(program, io);
  registerSimCommands(program, io);
  registerDemoCommand(program, io);
  registerCheckCommands(program, io);
  for (const cmd of program.commands)
    applyToTree(cmd, (c) =>
      c.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) }),
    );
  return program;
}

function applyToTree(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) applyToTree(sub, fn);
}

/** Runs the program on argv (as process.argv) and returns the exit code; never throws, never prints a stack trace. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CliExit) {
      io.err(`cpnet: ${e.message}`);
      return e.code;
    }
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help'
        ? EXIT.OK
        : EXIT.INVALID_INPUT;
    }
    io.err(`cpnet: unexpected failure: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.ENVIRONMENT;
  }
}
