import { defineConfig } from 'vitest/config';

// Unit tests of the pure state core, the fixture and the static server run in Node; the page is tested in tests/browser.
export default defineConfig({ test: { include: ['src/**/*.test.ts'], environment: 'node' } });
