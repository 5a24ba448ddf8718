import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COLD_CACHE_KIB, DatabaseDamaged, openDatabase } from './sqlite-database.ts';
import { applyMigrations, DatabaseNewerThanNode, listMigrations, MIGRATIONS_DIR } from './migrate.ts';

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: string | null;
  rolled_back_at: string | null;
  applied_steps_count: number;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cpnet-node-db-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeMigration(migrations: string, name: string, sql: string): void {
  mkdirSync(path.join(migrations, name), { recursive: true });
  writeFileSync(path.join(migrations, name, 'migration.sql'), sql);
}

function migrationRows(dbFile: string): MigrationRow[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db.prepare('SELECT * FROM _prisma_migrations ORDER BY started_at').all() as MigrationRow[];
  } finally {
    db.close();
  }
}

describe('openDatabase', () => {
  it('creates a fresh file, migrates it and round-trips a record through Prisma', async () => {
    const dbFile = path.join(dir, 'nested', 'node.db');
    const db = await openDatabase(dbFile);
    try {
      expect(db.applied).toEqual(listMigrations().map((migration) => migration.name));
      const values = [{ index: 1, type: 'URL', data: 'https://node.example/cpn/v1' }];
      await db.prisma.identifierRecord.create({
        data: {
          id: 'CPN.51/ND-1EJ',
          prefix: 'CPN.51',
          kind: 'ND',
          serial: '1',
          ownerNode: 'CPN',
          values: JSON.stringify(values),
        },
      });
      const found = await db.prisma.identifierRecord.findUniqueOrThrow({ where: { id: 'CPN.51/ND-1EJ' } });
      expect(found).toMatchObject({ kind: 'ND', version: 1, status: 'active' });
      expect(JSON.parse(found.values)).toEqual(values);
      expect(found.createdAt).toBeInstanceOf(Date);
    } finally {
      await db.close();
    }
    const raw = new Database(dbFile, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('fsyncs every commit by default and only at checkpoints with durability crash, on both connections', async () => {
    // The hot-path connection commits with NORMAL in both modes; with power-loss its group commits are fsynced after
    // COMMIT, off the event loop, before their promises settle (`WalSync`; sql.test.ts checks the order). Prisma's
    // connection (cold paths) keeps FULL.
    const modes = async (durability?: 'power-loss' | 'crash') => {
      const db = await openDatabase(path.join(dir, `${durability ?? 'default'}.db`), durability ? { durability } : {});
      try {
        const viaPrisma = await db.prisma.$queryRawUnsafe<{ synchronous: bigint | number }[]>('PRAGMA synchronous');
        return [Number(viaPrisma[0]?.synchronous), db.sql.db.pragma('synchronous', { simple: true })];
      } finally {
        await db.close();
      }
    };
    expect(await modes()).toEqual([2, 1]); // Prisma FULL; hot path NORMAL + WalSync
    expect(await modes('power-loss')).toEqual([2, 1]);
    expect(await modes('crash')).toEqual([1, 1]); // NORMAL
  });

  it("gives the cold-path connection a smaller page cache than the hot path's, which the caller may set", async () => {
    const caches = async (cacheKib?: number) => {
      const db = await openDatabase(path.join(dir, `cache-${cacheKib}.db`), cacheKib ? { cacheKib } : {});
      try {
        const viaPrisma = await db.prisma.$queryRawUnsafe<{ cache_size: bigint | number }[]>('PRAGMA cache_size');
        return [Number(viaPrisma[0]?.cache_size), db.sql.db.pragma('cache_size', { simple: true })];
      } finally {
        await db.close();
      }
    };
    expect(await caches()).toEqual([-COLD_CACHE_KIB, -16000]); // better-sqlite3's build default: 16,000 KiB
    expect(await caches(2048)).toEqual([-COLD_CACHE_KIB, -2048]);
  });

  it('records each migration in _prisma_migrations as Prisma does, with the sha256 of its file', async () => {
    const dbFile = path.join(dir, 'node.db');
    await (await openDatabase(dbFile)).close();
    const rows = migrationRows(dbFile);
    const expected = listMigrations().map(({ name }) => ({
      migration_name: name,
      checksum: createHash('sha256')
        .update(readFileSync(path.join(MIGRATIONS_DIR, name, 'migration.sql')))
        .digest('hex'),
      rolled_back_at: null,
      applied_steps_count: 1,
    }));
    expect(rows).toMatchObject(expected);
    expect(rows.every((row) => row.finished_at !== null)).toBe(true);
  });
});

describe('applyMigrations', () => {
  it('does nothing the second time', () => {
    const dbFile = path.join(dir, 'node.db');
    expect(applyMigrations(dbFile).applied.length).toBeGreaterThan(0);
    const before = migrationRows(dbFile);
    expect(applyMigrations(dbFile)).toEqual({ applied: [] });
    expect(migrationRows(dbFile)).toEqual(before);
  });

  it('refuses a database a newer version migrated, changing nothing', () => {
    const migrations = path.join(dir, 'migrations');
    writeMigration(migrations, '20250101000000_init', 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY);');
    const dbFile = path.join(dir, 'node.db');
    applyMigrations(dbFile, migrations);
    // The newer version applied this one; this version ships only the first (and a second it has not applied yet).
    writeMigration(migrations, '20250102000000_later', 'CREATE TABLE "B" ("id" INTEGER PRIMARY KEY);');
    const newer = path.join(dir, 'newer');
    writeMigration(newer, '20250101000000_init', 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY);');
    writeMigration(newer, '20250103000000_future', 'CREATE TABLE "C" ("id" INTEGER PRIMARY KEY);');
    applyMigrations(dbFile, newer);
    const before = migrationRows(dbFile);

    expect(() => applyMigrations(dbFile, migrations)).toThrow(DatabaseNewerThanNode);
    expect(() => applyMigrations(dbFile, migrations)).toThrow(
      /records migration 20250103000000_future, unknown to this version \(its latest is 20250102000000_later\)/,
    );
    expect(migrationRows(dbFile)).toEqual(before);
    const db = new Database(dbFile, { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'B'").get()).toBeUndefined();
    db.close();
  });

  it('rolls a failing migration back entirely and names it', () => {
    const migrations = path.join(dir, 'migrations');
    writeMigration(migrations, '20250101000000_good', 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY);');
    writeMigration(migrations, '20250102000000_bad', 'CREATE TABLE "B" ("id" INTEGER PRIMARY KEY);\nTHIS IS NOT SQL;');
    const dbFile = path.join(dir, 'node.db');

    expect(() => applyMigrations(dbFile, migrations)).toThrow(/20250102000000_bad failed and was rolled back/);

    expect(migrationRows(dbFile).map((row) => row.migration_name)).toEqual(['20250101000000_good']);
    const db = new Database(dbFile, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    db.close();
    expect(tables).toContain('A');
    expect(tables).not.toContain('B');
  });

  // Prisma changes a SQLite column by copying the table, dropping it and renaming the copy, with foreign keys
  // switched off by a pragma that SQLite ignores inside a transaction: done naively, the DROP cascades to the children.
  it("keeps rows and foreign keys through Prisma's table redefinition", () => {
    const migrations = path.join(dir, 'migrations');
    writeMigration(
      migrations,
      '20250101000000_init',
      `CREATE TABLE "Parent" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL);
CREATE TABLE "Child" ("id" INTEGER NOT NULL PRIMARY KEY, "parentId" INTEGER NOT NULL,
  CONSTRAINT "Child_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Parent" ("id") ON DELETE CASCADE ON UPDATE CASCADE);`,
    );
    const dbFile = path.join(dir, 'node.db');
    applyMigrations(dbFile, migrations);
    const db = new Database(dbFile);
    db.exec(`INSERT INTO "Parent" VALUES (1, 'a'), (2, 'b'); INSERT INTO "Child" VALUES (10, 1), (11, 2);`);
    writeMigration(
      migrations,
      '20250102000000_add_tag',
      `PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Parent" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "tag" TEXT NOT NULL DEFAULT 'x');
INSERT INTO "new_Parent" ("id", "name") SELECT "id", "name" FROM "Parent";
DROP TABLE "Parent";
ALTER TABLE "new_Parent" RENAME TO "Parent";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;`,
    );

    expect(applyMigrations(dbFile, migrations)).toEqual({ applied: ['20250102000000_add_tag'] });

    expect(db.prepare('SELECT * FROM "Parent" ORDER BY id').all()).toEqual([
      { id: 1, name: 'a', tag: 'x' },
      { id: 2, name: 'b', tag: 'x' },
    ]);
    expect(db.prepare('SELECT count(*) FROM "Child"').pluck().get()).toBe(2);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });
});

describe('openDatabase refuses a damaged file', () => {
  it('throws DatabaseDamaged for a file failing PRAGMA integrity_check, though its tables still read', async () => {
    const file = path.join(dir, 'node.db');
    const db = await openDatabase(file);
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO "IdentifierRecord" ("id","prefix","kind","serial","ownerNode","version","status","values","createdAt","updatedAt") ` +
        `VALUES ('CPN/SV-1','CPN','SV','1','CPN.51',1,'active','[]','t','t')`,
    );
    await db.close();
    // Damage one index: give it the page of another index (other values). A table scan still reads, the check fails.
    const raw = new Database(file);
    const size = raw.pragma('page_size', { simple: true }) as number;
    const root = (name: string) =>
      (raw.prepare('SELECT rootpage FROM sqlite_master WHERE name = ?').get(name) as { rootpage: number }).rootpage;
    const [from, to] = [root('IdentifierRecord_ownerNode_idx'), root('IdentifierRecord_prefix_idx')];
    raw.close();
    const bytes = readFileSync(file);
    bytes.copy(bytes, (to - 1) * size, (from - 1) * size, from * size);
    writeFileSync(file, bytes);
    const check = new Database(file);
    expect(check.prepare('SELECT count(*) AS n FROM "IdentifierRecord"').get()).toEqual({ n: 1 });
    check.close();
    await expect(openDatabase(file)).rejects.toThrow(DatabaseDamaged);
    await expect(openDatabase(file)).rejects.toThrow(/integrity check.*cpnet node restore/);
  });

  it('throws DatabaseDamaged for a file that is not a database', async () => {
    const file = path.join(dir, 'node.db');
    writeFileSync(file, Buffer.alloc(8192, 7));
    await expect(openDatabase(file)).rejects.toThrow(DatabaseDamaged);
  });
});
