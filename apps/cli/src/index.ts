/** Builds and runs the cpnet command (for tests and embedding). */
export { buildProgram, run } from './program.ts';
/** Output sinks. */
export { processIo, bufferIo, type Io } from './io.ts';
/** Exit with a code and a message. */
export { CliExit, invalidInput, environmentFailed } from './exit.ts';
