// The resources suite (gateways, reports, health, live events) with every node on PostgreSQL, in every `npm test`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startTestNode } from './nodes.ts';
import { onPostgres } from './on-postgres.ts';

await onPostgres(() => import('./resources.test.ts'));

it('runs its nodes on PostgreSQL (no node.db in the data folder)', async () => {
  const n = await startTestNode({ role: 'national', code: 'CPN' });
  try {
    expect(existsSync(path.join(n.dir, 'node.db'))).toBe(false);
  } finally {
    await n.stop();
  }
});
