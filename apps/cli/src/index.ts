/** Builds and runs the cpnet command (for tests and embedding). */
export { buildProgram, run } from './program.ts';
/** Output sinks. */
export { processIo, bufferIo, type Io } from './io.ts';
/** Exit with a code and a message. */
export { CliExit, invalidInput, environmentFailed } from './exit.ts';
/** `cpnet check`: conformance of a team's own node against virtual national/regional nodes. */
export { initConformance, type InitOptions, type InitResult } from './check/init.ts';
/** Runs every conformance check against a target; the report and its check ids. */
export {
  runConformance,
  checkIds,
  checkDescriptions,
  type ConformanceReport,
  type ConformanceCheck,
  type RunOptions,
  type ListVersion,
} from './check/run.ts';
/** The conformance report as JUnit XML. */
export { conformanceJunit } from './check/junit.ts';
/** A usage or environment problem of `cpnet check init|run`. */
export { CheckSetupError } from './check/state.ts';
/** The language-neutral contract written to docs/ by `npm run docs` (OpenAPI, AsyncAPI, test vectors). */
export { contractFiles } from './docs/contract.ts';
/** The fixed keys and time of the test vectors, and the RFC 9421 signature base rebuilt from a request. */
export { vectorKeys, signatureBaseOf, VECTOR_TIME_MS } from './docs/vectors.ts';
/** `cpnet viz` and `cpnet viz token` as functions (for tests that serve the visualiser against real nodes). */
export { runViz, runVizToken } from './commands/viz.ts';
