// Node-side entry of @cpnet/visualiser (the page itself is built by Vite from index.html and src/app).
/** The static server of the built page, for `cpnet viz` and `npm start`. */
export { serveVisualiser, type ServeOptions, type VisualiserServer } from './server/serve.ts';
/** The 申报与验收 board's reads: the reviewing accounts' tokens per node, and logging them in by password. */
export { loginTokens, type PipelineAccount, type PipelineNode, type PipelineTokens } from './server/pipeline.ts';
/** Builds the page with Vite when dist/ is missing or older than its sources. */
export { ensureBuilt, isBuildStale, DIST_DIR, VISUALISER_ROOT } from './server/build.ts';
/** A seeded, schema-valid recording FIXTURE for tests and benchmarks (not the simulator's recorder). */
export { generateRecording, toJsonLines, type Fixture, type FixtureOptions } from './fixtures/recording-fixture.ts';
/** Repeats a FIXTURE's lines through a recorder (the simulator's real one) into a long indexed recording. */
export { repeatThroughRecorder, type RecorderLike } from './fixtures/large-recording.ts';
/** Parses a recording (JSON Lines) into a validated, seekable recording. */
export { parseRecording } from './state/recording.ts';
/** Builds the state at a virtual time from the latest snapshot and the events after it. */
export { seek, advance } from './state/seek.ts';
/** Failover episodes (failure → recovery) of a list of events. */
export { failoverEpisodes, type Episode } from './state/episodes.ts';
/** Job-flow rates per province pair. */
export { flowRates, type Flow } from './state/flows.ts';
