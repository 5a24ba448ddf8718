// Entry point of the node's offline bundle (packaging/node): `cpnet node …` (start, backup, restore, outbox) and
// `cpnet id …`, without the simulator, the visualiser or tsx.
import { registerIdCommands } from '../commands/id.ts';
import { registerNodeCommands } from '../commands/node.ts';
import { processIo } from '../io.ts';
import { runWith } from '../program-core.ts';

/** Runs the node command on process.argv and returns the exit code. */
export function main(argv: readonly string[]): Promise<number> {
  return runWith(argv, processIo, [registerIdCommands, registerNodeCommands]);
}
