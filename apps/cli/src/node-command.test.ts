import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNode, defaultDeps, openPostgresStores, openSqliteStores } from '@cpnet/node';
import { startTestPostgres } from '@cpnet/node/testing/postgres';
import { bufferIo } from './io.ts';
import { run } from './program.ts';
import { sampleApplication } from './check/state.ts';

const argv = (...args: string[]) => ['node', 'cpnet', 'node', 'start', ...args];
const data = () => mkdtempSync(path.join(tmpdir(), 'cpnet-cli-'));

describe('cpnet node start', () => {
  it('refuses a bad configuration value with the reason (exit 2)', async () => {
    const io = bufferIo();
    expect(await run(argv('--role', 'regional', '--code', 'CPN.51', '--data', data()), io)).toBe(2);
    expect(io.stderr.join('')).toContain('parentUrl');
    const io2 = bufferIo();
    expect(await run(argv('--role', 'national', '--code', 'CPN.51', '--data', data()), io2)).toBe(2);
    expect(io2.stderr.join('')).toContain('code: CPN.51 is a regional prefix');
  });

  it('refuses a --database that is not a PostgreSQL URL (exit 2, naming the flag); an unreachable one is exit 3', async () => {
    for (const bad of ['mysql://u@h/db', 'not a url', 'postgres://']) {
      const io = bufferIo();
      expect(await run(argv('--role', 'national', '--code', 'CPN', '--data', data(), '--database', bad), io)).toBe(2);
      expect(io.stderr.join('')).toContain('--database (CPNET_DATABASE_URL) must be a postgres://');
    }
    const io = bufferIo();
    const url = 'postgres://cpnet:secret@127.0.0.1:9/cpnet';
    const args = argv('--role', 'national', '--code', 'CPN', '--port', '0', '--data', data(), '--log-level', 'silent');
    expect(await run([...args, '--database', url], io)).toBe(3);
    expect(io.stderr.join('')).toContain('PostgreSQL at postgres://cpnet:***@127.0.0.1:9/cpnet cannot be used');
    expect(io.stderr.join('')).not.toContain('secret');
  });

  const regional = (...more: string[]) =>
    argv('--role', 'regional', '--code', 'CPN.51', '--port', '0', '--data', data(), '--log-level', 'silent', ...more);
  const parent = ['--parent', 'http://127.0.0.1:9'];

  it('refuses a regional node without an application on first start (exit 2) instead of starting and never applying', async () => {
    const io = bufferIo();
    expect(await run(regional(...parent), io)).toBe(2);
    expect(io.stderr.join('')).toContain(
      'cpnet: refusing to start: a regional node applies to its parent on first start, and no application was given: ' +
        'pass --application <file>',
    );
  });

  it('refuses an invalid application file naming the file and the field (exit 2)', async () => {
    const dir = data();
    const bad = path.join(dir, 'application.json');
    const application = sampleApplication('CPN.51');
    writeFileSync(
      bad,
      JSON.stringify({ ...application, contact: { ...(application.contact as object), email: 'no' } }),
    );
    const io = bufferIo();
    expect(await run(regional(...parent, '--application', bad), io)).toBe(2);
    expect(io.stderr.join('')).toMatch(new RegExp(`refusing to start: application file ${bad}: contact\\.email: `));
    const other = path.join(dir, 'other.json');
    writeFileSync(other, JSON.stringify(sampleApplication('CPN.44')));
    const io2 = bufferIo();
    expect(await run(regional(...parent, '--application', other), io2)).toBe(2);
    expect(io2.stderr.join('')).toContain(`application file ${other}: region: "44", but this node's code is CPN.51`);
    const io3 = bufferIo();
    expect(await run(regional(...parent, '--application', path.join(dir, 'missing.json')), io3)).toBe(2);
    expect(io3.stderr.join('')).toContain('missing.json: ENOENT');
  });

  it('exits 3 when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const io = bufferIo();
    const code = await run(
      argv('--role', 'national', '--code', 'CPN', '--port', String(port), '--data', data(), '--log-level', 'silent'),
      io,
    );
    blocker.close();
    expect(code).toBe(3);
    expect(io.stderr.join('')).toContain('in use');
  });

  it('exits 3 naming cpnet node restore when node.db is emptied or lost where a node existed (no new root key)', async () => {
    const dir = data();
    const national = (...more: string[]) =>
      argv('--role', 'national', '--code', 'CPN', '--port', '0', '--data', dir, '--log-level', 'silent', ...more);
    const node = await createNode(
      { role: 'national', code: 'CPN', port: 0, dataDir: dir, logLevel: 'silent' },
      defaultDeps({ level: 'silent' }),
    );
    await node.close();
    const marker = path.join(dir, 'node.identity');
    expect(existsSync(marker)).toBe(true);
    const backup = path.join(data(), 'cpn.db');
    expect(await run(['node', 'cpnet', 'node', 'backup', '--data', dir, '--out', backup], bufferIo())).toBe(0);
    const db = path.join(dir, 'node.db');
    for (const damage of [() => truncateSync(db, 0), () => rmSync(db)]) {
      damage();
      for (const s of ['-wal', '-shm']) rmSync(`${db}${s}`, { force: true });
      const io = bufferIo();
      // Before the marker this started a brand-new national node; bounded so such a start fails instead of hanging.
      const code = await Promise.race([
        run(national(), io),
        new Promise((r) => setTimeout(() => r('started'), 10_000)),
      ]);
      expect(code).toBe(3);
      expect(io.stderr.join('')).toMatch(/held node CPN .*cpnet node restore --from <backup> --data/);
    }
    const before = readFileSync(marker, 'utf8');
    expect(
      await run(['node', 'cpnet', 'node', 'restore', '--from', backup, '--data', dir, '--force'], bufferIo()),
    ).toBe(0);
    const restored = await createNode(
      { role: 'national', code: 'CPN', port: 0, dataDir: dir, logLevel: 'silent' },
      defaultDeps({ level: 'silent' }),
    );
    await restored.close();
    expect(readFileSync(marker, 'utf8')).toBe(before); // the same node again: same key
  });

  it('exits 3 when node.db was migrated by a newer version, and leaves it as it was', async () => {
    const dir = data();
    const node = await createNode(
      { role: 'national', code: 'CPN', port: 0, dataDir: dir, logLevel: 'silent' },
      defaultDeps({ level: 'silent' }),
    );
    await node.close();
    // What a newer cpnet leaves behind: a migration this version does not ship, recorded as Prisma records it.
    const file = path.join(dir, 'node.db');
    const stores = await openSqliteStores(file);
    await stores.prisma.$executeRawUnsafe(
      `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
       VALUES ('future', 'x', '2099-01-01T00:00:00.000+00:00', '20990101000000_from_a_newer_version',
       '2099-01-01T00:00:00.000+00:00', 1)`,
    );
    await stores.close();
    const before = readFileSync(file);
    const io = bufferIo();
    expect(
      await run(argv('--role', 'national', '--code', 'CPN', '--port', '0', '--data', dir, '--log-level', 'silent'), io),
    ).toBe(3);
    expect(io.stderr.join('')).toMatch(
      /^cpnet: refusing to start: .*node\.db was migrated by a newer version of cpnet: it records migration 20990101000000_from_a_newer_version, unknown to this version .*cpnet node restore --from <backup>/,
    );
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('exits 3 when node.db fails its integrity check', async () => {
    const dir = data();
    writeFileSync(path.join(dir, 'node.db'), Buffer.alloc(16_384, 7));
    const io = bufferIo();
    expect(
      await run(argv('--role', 'national', '--code', 'CPN', '--port', '0', '--data', dir, '--log-level', 'silent'), io),
    ).toBe(3);
    expect(io.stderr.join('')).toMatch(/refusing to start: .*fails SQLite's integrity check.*cpnet node restore/);
  });

  it('cpnet node outbox list|retry shows the deliveries a peer refused and queues them again', async () => {
    const dir = data();
    const db = await openSqliteStores(path.join(dir, 'node.db'));
    await db.write(() =>
      db.outbox.add({ endpoint: 'http://parent', path: '/cpn/v1/summaries', body: { items: [] } }, 0),
    );
    const [row] = await db.outbox.oldest(1);
    const answer = { code: 'SCHEMA_VIOLATION', message: 'Too big', field: 'items.0.summary.clusters' };
    await db.write(() => db.outbox.bury(row!.id, { status: 400, answer, at: 0 }));
    // Still queued: two relays to a peer that failed them (one of them twice), one copy to the parent.
    const t = Date.UTC(2026, 11, 8, 1);
    const relay = { endpoint: 'http://child', path: '/cpn/v1/scheduling/job-updates', body: { items: [] } };
    await db.write(async () => {
      await db.outbox.add(relay, t);
      await db.outbox.add(relay, t + 1000);
      await db.outbox.add({ endpoint: 'http://parent', path: '/cpn/v1/records', body: { items: [] } }, t + 2000);
    });
    const relays = (await db.outbox.oldest(2)).map((r) => r.id);
    await db.write(() => db.outbox.failed(relays));
    await db.write(() => db.outbox.failed(relays.slice(0, 1)));
    await db.close();
    const outbox = (...args: string[]) => ['node', 'cpnet', 'node', 'outbox', ...args, '--data', dir];
    const list = bufferIo();
    expect(await run(outbox('list'), list)).toBe(0);
    expect(list.stdout).toEqual([
      'queued\thttp://child\t/cpn/v1/scheduling/job-updates\t2 since 2026-12-08T01:00:00.000Z, failing: 2 failed attempts',
      'queued\thttp://parent\t/cpn/v1/records\t1 since 2026-12-08T01:00:02.000Z',
      '3 deliveries queued for 2 peers',
      expect.stringMatching(
        /\/cpn\/v1\/summaries\thttp:\/\/parent\t400 SCHEMA_VIOLATION items\.0\.summary\.clusters: Too big/,
      ),
      '1 dead letter',
    ]);
    const retry = bufferIo();
    expect(await run(outbox('retry'), retry)).toBe(0);
    expect(retry.stdout.join('')).toContain('queued 1 dead letter again');
    const after = bufferIo();
    expect(await run(outbox('list'), after)).toBe(0);
    expect(after.stdout.join('')).toContain('4 deliveries queued for 2 peers');
    expect(after.stdout.join('')).toContain('0 dead letters');
  });

  it('on a PostgreSQL node: outbox list|retry read the database; backup|restore refuse, naming pg_dump/pg_restore', async () => {
    const server = await startTestPostgres();
    try {
      const url = await server.migratedDatabase();
      const db = await openPostgresStores(url, { poolSize: 1 });
      try {
        await db.write(() =>
          db.outbox.add({ endpoint: 'http://parent', path: '/cpn/v1/summaries', body: { items: [] } }, 0),
        );
        const [row] = await db.outbox.oldest(1);
        await db.write(() => db.outbox.bury(row!.id, { status: 400, answer: { code: 'X', message: 'no' }, at: 0 }));
      } finally {
        await db.close();
      }
      // The data folder holds no node.db: everything is read from the database.
      const dir = data();
      const outbox = (...args: string[]) => ['node', 'cpnet', 'node', 'outbox', ...args, '--data', dir];
      const list = bufferIo();
      expect(await run(outbox('list', '--database', url), list)).toBe(0);
      expect(list.stdout.join('')).toMatch(
        /^0 deliveries queued for 0 peers\d+\t.*\/cpn\/v1\/summaries\thttp:\/\/parent\t400 X: no[\s\S]*1 dead letter$/,
      );
      const retry = bufferIo();
      expect(await run(outbox('retry', '--database', url), retry)).toBe(0);
      expect(retry.stdout.join('')).toContain('queued 1 dead letter again');
      const after = bufferIo();
      expect(await run(outbox('list', '--database', url), after)).toBe(0);
      expect(after.stdout[0]).toMatch(
        /^queued\thttp:\/\/parent\t\/cpn\/v1\/summaries\t1 since \d{4}-\d\d-\d\dT[\d:.]+Z$/,
      );
      expect(after.stdout.join('')).toContain('0 dead letters');
      const password = new URL(url).password;
      const backup = bufferIo();
      const out = path.join(dir, 'cpn.dump');
      expect(
        await run(['node', 'cpnet', 'node', 'backup', '--data', dir, '--out', out, '--database', url], backup),
      ).toBe(2);
      expect(backup.stderr.join('')).toContain(`pg_dump --format=custom --no-owner --file=${out} --dbname=`);
      expect(backup.stderr.join('')).not.toContain(password);
      expect(existsSync(out)).toBe(false);
      const restore = bufferIo();
      expect(
        await run(['node', 'cpnet', 'node', 'restore', '--from', out, '--data', dir, '--database', url], restore),
      ).toBe(2);
      expect(restore.stderr.join('')).toMatch(
        /pg_restore --no-owner --exit-on-error --dbname='postgres:\/\/postgres@.*' /,
      );
      const bad = bufferIo();
      expect(await run(outbox('list', '--database', 'mysql://x@y/z'), bad)).toBe(2);
      expect(bad.stderr.join('')).toContain('--database (CPNET_DATABASE_URL) must be a postgres://');
    } finally {
      await server.stop();
    }
  }, 60_000);
});
