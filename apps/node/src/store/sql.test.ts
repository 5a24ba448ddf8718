import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlStore } from './sql.ts';

const dirs: string[] = [];
function store() {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-sql-'));
  dirs.push(dir);
  const file = path.join(dir, 'x.db');
  const setup = new Database(file);
  setup.pragma('journal_mode = WAL');
  setup.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  setup.close();
  return { file, sql: openSqlStore(file) };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('group commit', () => {
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
});
