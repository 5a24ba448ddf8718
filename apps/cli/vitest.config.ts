import { defineConfig } from 'vitest/config';

// Two files at a time (vitest's default is one on a 2-core machine): the files wait on child processes and sockets.
export default defineConfig({ test: { maxWorkers: 2 } });
