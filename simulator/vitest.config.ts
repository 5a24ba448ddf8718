import { defineConfig } from 'vitest/config';

// Tests here start real servers and databases; on a loaded two-core machine vitest's default 5 s of wall time per
// test is too tight (seen: a node's start timed out beside a typecheck), so each test gets 30 s unless it says more.
// Two files at a time (vitest's default is one on a 2-core machine): the files wait on sockets, timers and processes.
export default defineConfig({ test: { testTimeout: 30_000, maxWorkers: 2 } });
