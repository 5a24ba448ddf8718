#!/usr/bin/env node
// The cpnet command runs its TypeScript source through tsx: internal packages are consumed as source, no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
const code = await main(process.argv);
// Long-running commands (node start, sim up, viz, demo) return only once they have shut down, so whatever handle is
// still open now (a client socket's keep-alive, a log stream) must not keep a finished command alive.
process.exit(code);
