// The `cpnet` program without its commands: options, help, exit codes. program.ts adds every command group.
import { Command, CommanderError } from 'commander';
import { EXIT } from '@cpnet/protocol';
import { CliExit } from './exit.ts';
import type { Io } from './io.ts';

/** Adds a group of commands (`cpnet id …`, `cpnet check …`) to the program. */
export type RegisterCommands = (program: Command, io: Io) => unknown;

/**
 * Builds a `cpnet` program writing to `io` with the command groups given. The installable packages of packaging/
 * build theirs from a few groups (`id` + `check`, `id` + `node`), so they carry nothing of the simulator or the
 * visualiser; program.ts builds the full command.
 */
export function buildProgramWith(io: Io, groups: readonly RegisterCommands[]): Command {
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
  for (const register of groups) register(program, io);
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

/**
 * Runs a program with the command groups given on argv (as process.argv) and returns the exit code; never throws,
 * never prints a stack trace.
 */
export async function runWith(argv: readonly string[], io: Io, groups: readonly RegisterCommands[]): Promise<number> {
  const program = buildProgramWith(io, groups);
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
