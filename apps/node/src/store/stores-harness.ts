// The test harness of the store ports' contract (stores-*.test.ts): each case runs against both implementations —
// SQLite, and PostgreSQL (one embedded server per test file, a fresh database per case; CPNET_TEST_DATABASE_URL
// names an existing server instead). Importing this registers the hooks that start the server and close and remove
// what a case opened.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { IdentifierRecord } from '@cpnet/protocol';
import { openSqliteStores } from './stores.ts';
import type { NodeStores } from './stores.ts';
import { openPostgresStores } from './postgres-stores.ts';
import { startTestPostgres, type TestPostgres } from './postgres-test-server.ts';

const dirs: string[] = [];
const open: NodeStores[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let server: TestPostgres | undefined;
beforeAll(async () => {
  server = await startTestPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** Stores opened by a case that are closed after it. */
export function closedAfterCase(db: NodeStores): NodeStores {
  open.push(db);
  return db;
}

/** A fresh migrated database on this file's PostgreSQL server. */
export function migratedPostgres(): Promise<string> {
  return server!.migratedDatabase();
}

async function sqlite(): Promise<NodeStores> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-stores-'));
  dirs.push(dir);
  return closedAfterCase(await openSqliteStores(path.join(dir, 'node.db'), { durability: 'crash' }));
}

async function postgres(): Promise<NodeStores> {
  return closedAfterCase(await openPostgresStores(await migratedPostgres(), { poolSize: 2 }));
}

/** The implementations, for `describe.each(STORES)('… (%s)', (_name, make) => …)`. */
export const STORES = [
  ['sqlite', sqlite],
  ['postgres', postgres],
] as const;

/** An identifier record of CPN.51, serial `serial`, at `version`. */
export const record = (serial: string, version = 1): IdentifierRecord => ({
  id: `CPN.51/SV-${serial}`,
  kind: 'SV',
  owner: 'CPN.51',
  version,
  status: 'active',
  values: [{ index: 1, type: 'URL', data: `https://example.cn/${version}` }] as IdentifierRecord['values'],
  createdAt: '2026-12-04T00:00:00.000Z',
  updatedAt: `2026-12-04T00:00:0${version}.000Z`,
});

/** An active provider row with identifier `id`. */
export const provider = (id: string) => ({
  id,
  creditCode: '91510100MA6CXXXX1D',
  name: 'p',
  province: '51',
  city: 'Chengdu',
  publicKey: 'K',
  lifecycle: 'active',
  registeredAt: '2026-12-04T00:00:00.000Z',
});
