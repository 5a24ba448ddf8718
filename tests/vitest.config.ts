import { defineConfig } from 'vitest/config';

// Cross-package tests. Browser tests (browser/) drive Debian's Chromium and need the visualiser built: the global
// setup builds it once when apps/visualiser/dist is missing or stale, before any test file starts a server.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['./browser/global-setup.ts'],
    // Every answer of a test node is checked against docs/openapi.json (src/contract/responses.ts).
    setupFiles: ['./src/contract/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
