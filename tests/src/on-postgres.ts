// Runs a node integration suite a second time with every node on PostgreSQL: a `<suite>-postgres.test.ts` file calls
// `onPostgres(() => import('./<suite>.test.ts'))`. The switch (CPNET_TEST_DATABASE=postgres, read by `startTestNode`)
// is set before the suite's module loads and restored after the file; the helper in nodes.ts starts one server for
// the file (or uses CPNET_TEST_DATABASE_URL) and stops it after the suite's own afterAll hooks.
import { afterAll } from 'vitest';
import { testDatabase } from './nodes.ts';

export async function onPostgres(suite: () => Promise<unknown>): Promise<void> {
  const before = process.env.CPNET_TEST_DATABASE;
  process.env.CPNET_TEST_DATABASE = 'postgres';
  afterAll(() => {
    if (before === undefined) delete process.env.CPNET_TEST_DATABASE;
    else process.env.CPNET_TEST_DATABASE = before;
  });
  if (testDatabase() !== 'postgres') throw new Error('CPNET_TEST_DATABASE=postgres did not take');
  await suite();
}
