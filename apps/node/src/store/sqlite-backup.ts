import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '@cpnet/kernel/system';
import { setIdentityMarkerAside } from './identity-marker.ts';

/** The database file inside a node's data folder. */
function databaseFile(dataDir: string): string {
  return path.join(dataDir, 'node.db');
}

/** Why a backup or restore could not be done: `input` (exit 2) or `environment` (exit 3). */
export class BackupError extends Error {
  constructor(
    message: string,
    readonly kind: 'input' | 'environment',
  ) {
    super(message);
  }
}

/** What a backup or restore wrote. */
export interface BackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly pages: number;
}

function checkDatabase(file: string): void {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new BackupError(`${file} cannot be opened as SQLite: ${(e as Error).message}`, 'input');
  }
  try {
    const ok = db.pragma('quick_check', { simple: true });
    if (ok !== 'ok') throw new BackupError(`${file} is damaged: ${String(ok)}`, 'input');
    const migrations = db
      .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'")
      .get() as { n: number };
    if (migrations.n === 0)
      throw new BackupError(`${file} is not a cpnet node database (no _prisma_migrations table)`, 'input');
  } catch (e) {
    if (e instanceof BackupError) throw e;
    throw new BackupError(`${file} is not a usable SQLite database: ${(e as Error).message}`, 'input');
  } finally {
    db.close();
  }
}

/**
 * Copies a node's database to `out` with SQLite's online backup API: consistent even while the node runs and
 * writes (WAL), page by page, without stopping it.
 */
export async function backupNode(input: { dataDir: string; out: string }): Promise<BackupResult> {
  const source = databaseFile(input.dataDir);
  if (!existsSync(source))
    throw new BackupError(
      `no node database at ${source} (a node on PostgreSQL is backed up with pg_dump: add its --database to see the command)`,
      'input',
    );
  if (existsSync(input.out)) throw new BackupError(`${input.out} exists; choose a new file name`, 'input');
  mkdirSync(path.dirname(path.resolve(input.out)), { recursive: true });
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const r = await db.backup(input.out);
    return { file: input.out, bytes: statSync(input.out).size, pages: r.totalPages };
  } catch (e) {
    rmSync(input.out, { force: true });
    throw new BackupError(`backup of ${source} failed: ${(e as Error).message}`, 'environment');
  } finally {
    db.close();
  }
}

/**
 * Restores a backup into a data folder (the node must be stopped). The backup is checked first; an existing
 * database is kept beside it as `node.db.before-restore-<time>` when `force` is given, and refused otherwise.
 * On the next start the node applies any newer migrations and resumes from the restored state.
 */
export async function restoreNode(input: {
  from: string;
  dataDir: string;
  force?: boolean;
  now?: number;
}): Promise<BackupResult> {
  if (!existsSync(input.from)) throw new BackupError(`no backup at ${input.from}`, 'input');
  checkDatabase(input.from);
  const target = databaseFile(input.dataDir);
  mkdirSync(input.dataDir, { recursive: true });
  if (existsSync(target)) {
    if (!input.force)
      throw new BackupError(
        `${target} exists; stop the node and pass --force to replace it (the old file is kept)`,
        'input',
      );
    const kept = `${target}.before-restore-${input.now ?? systemClock.now()}`;
    // Fold the old WAL into the file first so what is kept is complete.
    try {
      const old = new Database(target);
      try {
        old.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        old.close();
      }
    } catch {
      // A damaged or empty database (the reason to restore) is kept as it is.
    }
    renameSync(target, kept);
  }
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${target}${suffix}`, { force: true });
  setIdentityMarkerAside(input.dataDir, input.now ?? systemClock.now());
  const src = new Database(input.from, { readonly: true, fileMustExist: true });
  try {
    const r = await src.backup(target);
    return { file: target, bytes: statSync(target).size, pages: r.totalPages };
  } finally {
    src.close();
  }
}
