import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createClient } from '@cpnet/client';
import { cryptoRandomBytes } from '@cpnet/security';
import { systemClock } from '@cpnet/kernel/system';
import { createNode } from './create-node.ts';
import type { NodeDeps } from './deps.ts';
import { openSqliteStores } from './store/stores.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const deps = (): NodeDeps => ({
  clock: systemClock,
  logger: pino({ level: 'silent' }),
  randomBytes: cryptoRandomBytes,
});

describe('createNode(config, { deps, db })', () => {
  it('builds the node on the stores it is given, and leaves them open for their owner', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-parts-'));
    dirs.push(dir);
    const db = await openSqliteStores(path.join(dir, 'elsewhere.db'));
    const node = await createNode({ role: 'national', code: 'CPN', port: 0, dataDir: dir }, { deps: deps(), db });
    const url = await node.listen();
    const signed = createClient({
      baseUrl: url,
      signer: { keyid: 'CPN', privateKey: node.context.identity.keys.privateKey },
    });
    const r = await signed.register({ kind: 'SV', values: [{ index: 1, type: 'URL', data: 'https://example.cn' }] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    await node.close();
    // The node wrote through the given stores and did not close them.
    expect((await db.identifiers.byId(r.value.id))?.values[0]?.data).toBe('https://example.cn');
    expect(existsSync(path.join(dir, 'node.db'))).toBe(false);
    await db.close();
  });
});
