// The resources suite (gateways, reports, health, live events) with every node on PostgreSQL: the one node
// integration suite that runs on PostgreSQL in every `npm test` (~15 s of wall time). The others run there with
// CPNET_TEST_DATABASE=postgres (see apps/node/README.md, "PostgreSQL").
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startTestNode, testDatabase } from './nodes.ts';

const before = process.env.CPNET_TEST_DATABASE;
process.env.CPNET_TEST_DATABASE = 'postgres';
afterAll(() => {
  if (before === undefined) delete process.env.CPNET_TEST_DATABASE;
  else process.env.CPNET_TEST_DATABASE = before;
});
if (testDatabase() !== 'postgres') throw new Error('CPNET_TEST_DATABASE=postgres did not take');

await import('./resources.test.ts');

it('runs its nodes on PostgreSQL (no node.db in the data folder)', async () => {
  const n = await startTestNode({ role: 'national', code: 'CPN' });
  try {
    expect(existsSync(path.join(n.dir, 'node.db'))).toBe(false);
  } finally {
    await n.stop();
  }
});
