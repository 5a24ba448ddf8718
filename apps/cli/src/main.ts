import { processIo } from './io.ts';
import { run } from './program.ts';

/** Entry point of the binary. */
export function main(argv: readonly string[]): Promise<number> {
  return run(argv, processIo);
}
