import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlStore } from './sql.ts';
import { StorageFailed } from './wal-sync.ts';

const dirs: string[] = [];
function store(durability?: 'power-loss' | 'crash') {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-sql-'));
  dirs.push(dir);
  const file = path.join(dir, 'x.db');
  const setup = new Database(file);
  setup.pragma('journal_mode = WAL');
  setup.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  setup.close();
  return { file, sql: openSqlStore(file, durability ? { durability } : {}) };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('group commit', () => {
  it('an enlisted unit waits for a later write and commits in its transaction; alone, it commits within a few ms', async () => {
    const { file, sql } = store();
    const other = new Database(file, { readonly: true });
    const visible = (k: string) => other.prepare('SELECT 1 FROM t WHERE k = ?').get(k) !== undefined;
    const enlisted = sql.enlist(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run('nonce').changes);
    // Several turns of the event loop pass (a request's body is read, its handler runs) before the write comes.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(visible('nonce')).toBe(false);
    const seenInside: boolean[] = [];
    const written = sql.write(() => {
      sql.stmt('INSERT INTO t (k) VALUES (?)').run('record');
      // Inside the write's transaction: the enlisted row is there on this connection, not yet committed for others.
      seenInside.push(sql.stmt('SELECT 1 FROM t WHERE k = ?').get('nonce') !== undefined, visible('nonce'));
    });
    await Promise.all([enlisted, written]);
    expect(seenInside).toEqual([true, false]);
    expect([visible('nonce'), visible('record')]).toEqual([true, true]);
    // With no write to join, an enlisted unit still commits (after ENLIST_WAIT_MS, 1 s of wall time; bound 10×).
    const t0 = performance.now();
    await sql.enlist(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run('alone'));
    expect(visible('alone')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(10_000);
    other.close();
    sql.close();
  });

  it('writes of one turn commit together; one that throws undoes only its own changes', async () => {
    const { sql } = store();
    const ins = (k: string) => sql.write(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run(k).changes);
    const results = await Promise.allSettled([
      ins('a'),
      ins('b'),
      ins('a'),
      sql.write(() => {
        sql.stmt('INSERT INTO t (k) VALUES (?)').run('zz');
        throw new Error('no');
      }),
      ins('c'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const keys = (sql.db.prepare('SELECT k FROM t ORDER BY k').all() as { k: string }[]).map((r) => r.k);
    expect(keys).toEqual(['a', 'b', 'c']);
    sql.close();
  });

  it("keeps a unit's savepoint journal in memory: a unit changing ~200 KiB opens no temp file, one that throws is undone", async () => {
    const { file, sql } = store();
    // SQLite names its temporary files etilqs_* and unlinks them at once; an open one shows in /proc/self/fd.
    const tempFiles = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).includes('etilqs_');
        } catch {
          return false;
        }
      }).length;
    // 3,000 rows of ~100 bytes (~100 pages of the table and its index), committed: a savepoint journals the pages
    // that existed before it.
    await sql.write(() => {
      for (let i = 0; i < 3000; i++)
        sql.stmt('INSERT INTO t (k) VALUES (?)').run(`${String(i).padStart(4, '0')}${'x'.repeat(100)}`);
    });
    const opened: number[] = [];
    const kept = sql.write(() => {
      sql.stmt("DELETE FROM t WHERE k < '1500'").run();
      opened.push(tempFiles());
    });
    const undone = sql.write(() => {
      sql.stmt('DELETE FROM t').run();
      opened.push(tempFiles());
      throw new Error('refused');
    });
    await kept;
    await expect(undone).rejects.toThrow('refused');
    // With temporary files on disk the journal spills to one after 64 KiB.
    expect(opened).toEqual([0, 0]);
    const other = new Database(file, { readonly: true });
    expect(other.prepare('SELECT count(*) AS n, min(substr(k, 1, 4)) AS first FROM t').get()).toEqual({
      n: 1500,
      first: '1500',
    });
    other.close();
    sql.close();
  });

  it('waits, without blocking the event loop, while another connection holds the write lock', async () => {
    const { file, sql } = store();
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    other.prepare('INSERT INTO t (k) VALUES (?)').run('first');
    const pending = sql.write(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run('second'));
    await new Promise((r) => setTimeout(r, 30));
    other.exec('COMMIT');
    await pending;
    expect((sql.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(2);
    other.close();
    sql.close();
  });

  it('power-loss: a write settles only once its commit is fsynced, and durable() is pending until then', async () => {
    const { file, sql } = store();
    // The commit itself does not fsync (NORMAL, 1); the WAL is fsynced off the event loop after it.
    expect(sql.db.pragma('synchronous', { simple: true })).toBe(1);
    const other = new Database(file, { readonly: true });
    const visible = (k: string) => other.prepare('SELECT 1 FROM t WHERE k = ?').get(k) !== undefined;
    expect(sql.durable()).toBeNull();
    for (const k of ['a', 'b', 'c']) {
      let settled = false;
      const written = sql
        .write(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run(k))
        .then(() => {
          settled = true;
        });
      while (!visible(k)) await new Promise((r) => setImmediate(r));
      // Committed and visible: settled exactly when nothing committed is still waiting for its fsync.
      const fence = sql.durable();
      expect(settled).toBe(fence === null);
      await fence;
      await written;
      expect(sql.durable()).toBeNull();
    }
    // Writes queued while an fsync runs share the next one, and settle in their commits' order.
    const order: string[] = [];
    await Promise.all(
      ['d', 'e', 'f'].map(async (k, i) => {
        if (i > 0) await new Promise((r) => setImmediate(r));
        await sql.write(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run(k));
        order.push(k);
      }),
    );
    expect(order).toEqual(['d', 'e', 'f']);
    other.close();
    sql.close();
  });

  it('power-loss: a failed WAL sync fails its writes and every later one, which change nothing (StorageFailed)', async () => {
    const { file, sql } = store();
    // A read opens the WAL; with its file gone (an operator's mistake, a failing disk) the first sync cannot open it.
    sql.stmt('SELECT COUNT(*) FROM t').get();
    expect(existsSync(`${file}-wal`)).toBe(true);
    rmSync(`${file}-wal`);
    const first = sql.write(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run('a'));
    await expect(first).rejects.toBeInstanceOf(StorageFailed);
    await expect(first).rejects.toThrow(/storage failed .*x\.db-wal.*ENOENT.*restarted/);
    // Sticky: no later sync can be trusted, so no later write runs, and every durability wait fails.
    let ran = false;
    await expect(
      sql.write(() => {
        ran = true;
        return sql.stmt('INSERT INTO t (k) VALUES (?)').run('b');
      }),
    ).rejects.toBeInstanceOf(StorageFailed);
    expect(ran).toBe(false);
    expect(sql.stmt('SELECT k FROM t ORDER BY k').all()).toEqual([{ k: 'a' }]);
    await expect(sql.durable()).rejects.toBeInstanceOf(StorageFailed);
    sql.close();
  });

  it('power-loss: a WAL removed after it was opened fails the next sync (a restart would not find it)', async () => {
    const { file, sql } = store();
    await sql.write(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run('a'));
    // The sync's descriptor is open now: fdatasync of the removed file would succeed, on a file nobody will read.
    rmSync(`${file}-wal`);
    const next = sql.write(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run('b'));
    await expect(next).rejects.toThrow(/storage failed .*x\.db-wal.*ENOENT: the file was removed/);
    await expect(sql.write(() => 1)).rejects.toBeInstanceOf(StorageFailed);
    sql.close();
  });

  it('crash: nothing is fsynced per commit and durable() is always null', async () => {
    const { sql } = store('crash');
    expect(sql.db.pragma('synchronous', { simple: true })).toBe(1);
    const written = sql.write(() => sql.stmt('INSERT INTO t (k) VALUES (?)').run('x'));
    expect(sql.durable()).toBeNull();
    await written;
    expect(sql.durable()).toBeNull();
    sql.close();
  });
});
