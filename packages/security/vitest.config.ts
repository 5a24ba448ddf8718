import { defineConfig } from 'vitest/config';

// The property tests sign and verify hundreds of messages (SM2 in pure JS among them); on a loaded two-core machine
// vitest's default 5 s of wall time per test is too tight, so each test gets 30 s of wall time.
// Two files at a time (vitest's default is one on a 2-core machine): one per core.
export default defineConfig({ test: { testTimeout: 30_000, maxWorkers: 2 } });
