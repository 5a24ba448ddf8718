// Entry point of the installable checker (packaging/check): `cpnet id …` and `cpnet check …` only, so the bundle
// carries the node server the virtual parents need but nothing of the simulator, the visualiser or tsx.
import { registerCheckCommands } from '../commands/check.ts';
import { registerIdCommands } from '../commands/id.ts';
import { processIo } from '../io.ts';
import { runWith } from '../program-core.ts';

/** Runs the checker on process.argv and returns the exit code. */
export function main(argv: readonly string[]): Promise<number> {
  return runWith(argv, processIo, [registerIdCommands, registerCheckCommands]);
}
