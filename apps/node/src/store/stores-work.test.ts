import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { openPostgresStores } from './postgres-stores.ts';
import { closedAfterCase, migratedPostgres, record, STORES } from './stores-harness.ts';

// The store ports' contract, units of work: what a unit may await, and what one that fails leaves (both
// implementations); then what is PostgreSQL's own — its connections (stores-harness.ts).

describe.each(STORES)('the store ports (%s): units of work', (_name, make) => {
  it('a nested write, or a unit awaiting something other than a store call, fails loudly instead of hanging', async () => {
    const db = await make();
    // A write inside a unit would wait for its own commit: refused at once, naming the cause.
    await expect(
      db.write(async () => {
        await db.settings.put('outer', '1');
        await db.write(() => db.settings.put('inner', '1'));
      }),
    ).rejects.toMatchObject({ name: 'UnitOfWorkError', code: 'nested-write' });
    // A unit awaiting a timer (wall time, 20 ms) would hold the single writer meanwhile: undone, with the cause.
    await expect(
      db.write(async () => {
        await db.settings.put('stalled', '1');
        await new Promise((r) => setTimeout(r, 20));
      }),
    ).rejects.toMatchObject({ name: 'UnitOfWorkError', code: 'awaited-outside-store' });
    // Units queued beside the bad ones, and later ones, still commit; the bad ones left nothing.
    const [, beside] = await Promise.allSettled([
      db.write(async () => {
        await new Promise((r) => setTimeout(r, 5));
      }),
      db.write(() => db.settings.put('beside', '1')),
    ]);
    expect(beside.status).toBe('fulfilled');
    await db.write(() => db.settings.put('after', '1'));
    await new Promise((r) => setTimeout(r, 30));
    const all = await db.settings.all();
    expect([...all.keys()].sort()).toEqual(['after', 'beside']);
  });

  it('a unit of work that throws leaves nothing behind', async () => {
    const db = await make();
    await expect(
      db.write(async () => {
        await db.outbox.add({ endpoint: 'http://a', path: '/p', body: {} }, 0);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await db.outbox.count()).toBe(0);
  });
});

describe('the PostgreSQL connection', () => {
  it('replaces a writer connection the server ended: the next unit of work commits', async () => {
    const url = await migratedPostgres();
    const db = closedAfterCase(await openPostgresStores(url, { poolSize: 2 }));
    await db.write(() => db.settings.put('a', '1'));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const ended = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      expect(ended.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // The group running when the connection died may fail; the one after it runs on a new connection.
    await db.write(() => db.settings.put('b', '2')).catch(() => undefined);
    await db.write(() => db.settings.put('c', '3'));
    expect((await db.settings.all()).get('c')).toBe('3');
  });
  it('held statements: one round trip for a unit’s inserts, seen by its later reads, their errors fail only their unit', async () => {
    let queries = 0;
    const db = closedAfterCase(
      await openPostgresStores(await migratedPostgres(), {
        poolSize: 2,
        work: { begin: () => (queries++, () => undefined) },
      }),
    );
    const delivery = { endpoint: 'http://127.0.0.1:1', path: '/cpn/v1/copies', body: {} };
    // A registration's inserts (record, copy upward, audit entry): BEGIN, one statement, COMMIT (+ the unit itself).
    queries = 0;
    await db.write(async () => {
      await db.identifiers.insert(record('1'), { prefix: 'CPN.51', serial: '1' });
      await db.outbox.add(delivery, 1);
      await db.audit.append('first');
    });
    expect(queries).toBe(4);
    // Two of one kind in one unit keep their order; a read in the unit sees what it holds.
    const seen = await db.write(async () => {
      await db.audit.append('second');
      await db.audit.append('third');
      return db.identifiers.versionOf(record('1').id);
    });
    expect(seen).toBe(1);
    expect(await db.audit.entries()).toEqual(['first', 'second', 'third']);
    // A held insert that breaks a key fails its own unit when it is sent; the unit grouped with it commits.
    const [dup, other] = await Promise.allSettled([
      db.write(async () => {
        await db.audit.append('undone');
        await db.identifiers.insert(record('1'), { prefix: 'CPN.51', serial: '1' });
      }),
      db.write(() => db.audit.append('fourth')),
    ]);
    expect(dup.status).toBe('rejected');
    expect(other.status).toBe('fulfilled');
    expect(await db.audit.entries()).toEqual(['first', 'second', 'third', 'fourth']);
    expect(await db.outbox.count()).toBe(1);
  });
});
