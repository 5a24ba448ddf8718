import { defineConfig } from 'vitest/config';

// Cross-package tests. Browser tests (browser/) drive Debian's Chromium and need the visualiser built: the global
// setup builds it once when apps/visualiser/dist is missing or stale, before any test file starts a server.
//
// Two groups, one after the other. Most files run two at a time (each starts its own nodes on ports the OS picks,
// in folders of its own): they wait on sockets, timers and child processes for much of their time, and each must
// pass beside other work anyway. `ALONE` files run afterwards one at a time: they load every core on purpose (CPU
// hogs) and assert that the hogs really took a share, so a neighbour would change what they measure.
const ALONE = ['src/sim-clock.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['./browser/global-setup.ts'],
    // Every answer of a test node is checked against docs/openapi.json (src/contract/responses.ts).
    setupFiles: ['./src/contract/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'together',
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', ...ALONE],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'alone',
          include: ALONE,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
