#!/usr/bin/env node
// The cpnet command runs its TypeScript source through tsx: internal packages are consumed as source, no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
