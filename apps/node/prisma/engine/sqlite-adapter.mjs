// The SQLite side of the wasm schema engine: a better-sqlite3 driver adapter, corrected where the wasm
// engine and better-sqlite3 disagree with what the native engine does, plus the file operations the
// native engine performs itself (create, drop, reset by truncation).
import { closeSync, existsSync, mkdirSync, openSync, rmSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

const MEMORY = ':memory:';

/**
 * The file path of a SQLite URL (`file:./dev.db`, `file:/abs/x.db?mode=…`), relative paths resolved against
 * the current directory as the native engine does (the CLI starts the engine in the config's folder).
 * Returns ":memory:" for an in-memory database.
 */
export function sqliteFilePath(url) {
  const bare = url.replace(/^file:/, '').replace(/\?.*$/, '');
  if (bare === MEMORY || bare === '') return MEMORY;
  return path.resolve(bare);
}

/** Creates the database file (and its folder) if missing. */
export function ensureDatabaseFile(file) {
  if (file === MEMORY) return;
  mkdirSync(path.dirname(file), { recursive: true });
  closeSync(openSync(file, 'a'));
}

/** Deletes the database file and SQLite's side files. */
export function dropDatabaseFile(file) {
  if (file === MEMORY) return;
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(file + suffix, { force: true });
}

/**
 * Empties the database, as the native engine's reset does on SQLite. The wasm engine's reset keeps the file
 * and only deletes what it knows about; truncating to zero bytes drops every table, view and pragma state.
 * Callers must close their connections first.
 */
export function truncateDatabaseFile(file) {
  if (file === MEMORY) return;
  for (const suffix of ['-journal', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  if (existsSync(file)) truncateSync(file, 0);
  else ensureDatabaseFile(file);
}

const MIGRATIONS_TABLE = /[`"]?_prisma_migrations[`"]?/;
const MIGRATIONS_SELECT = /^\s*SELECT\s+([\s\S]+?)\s+FROM\s+[`"]?_prisma_migrations[`"]?/i;
const TEXT_COLUMN = 7; // ColumnTypeEnum.Text; never read, as the answer has no rows

// Byte for byte the table the engine creates when it applies the first migration.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

const isMissingMigrationsTable = (error, sql) =>
  error?.cause?.kind === 'TableDoesNotExist' && MIGRATIONS_TABLE.test(sql);

/**
 * Quirk 2: when it replays migrations into the shadow database the wasm engine sends whole multi-statement
 * scripts through executeRaw, which better-sqlite3's prepare() rejects ("more than one statement").
 * Such a script has no parameters, so running it with exec() is equivalent.
 */
async function executeRaw(adapter, query, note) {
  try {
    return await adapter.executeRaw(query);
  } catch (error) {
    if (query.args.length > 0 || !/more than one statement/.test(String(error?.message))) throw error;
    note('multi-statement executeRaw: running it as a script');
    await adapter.executeScript(query.sql);
    return 0;
  }
}

function withQuirks(adapter, note) {
  /**
   * Quirk 1: the native engine treats a missing `_prisma_migrations` as "not initialised" (no migration applied;
   * create the table on the first write). The wasm engine only recognises that from the native SQLite driver's
   * error code, so through a driver adapter every command that reads the table fails with P1014 before the first
   * migration. We answer such a read with no rows, and create the table (as the engine would) when a write to it
   * fails, e.g. `migrate resolve --applied` on a database that never had a migration.
   */
  const toleratingMissingMigrationsTable = (run) => async (query) => {
    try {
      return await run(query);
    } catch (error) {
      if (!isMissingMigrationsTable(error, query.sql)) throw error;
      const select = MIGRATIONS_SELECT.exec(query.sql);
      if (select) {
        note('_prisma_migrations does not exist yet: answering the read with no rows');
        const columnNames = select[1].split(',').map((column) => column.trim());
        return { columnNames, columnTypes: columnNames.map(() => TEXT_COLUMN), rows: [] };
      }
      note('_prisma_migrations does not exist yet: creating it before the write');
      await adapter.executeScript(CREATE_MIGRATIONS_TABLE);
      return run(query);
    }
  };
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: toleratingMissingMigrationsTable((query) => adapter.queryRaw(query)),
    executeRaw: toleratingMissingMigrationsTable((query) => executeRaw(adapter, query, note)),
    executeScript: (script) => adapter.executeScript(script),
    startTransaction: (isolationLevel) => adapter.startTransaction(isolationLevel),
    dispose: () => adapter.dispose(),
  };
}

/**
 * The adapter factory handed to the wasm engine, and a way to close the main database's connections
 * (needed before truncating its file). The shadow database is in memory unless a shadow URL is given.
 * @param {{ url?: string, shadowDatabaseUrl?: string }} datasource
 * @param {(message: string) => void} note  told when a quirk is worked around (visible with DEBUG=prisma:schemaEngine*)
 */
export function createAdapterFactory(datasource, note) {
  // Commands that need no database (diffing two schema files) still construct the engine with an adapter.
  const file = sqliteFilePath(datasource.url ?? MEMORY);
  const shadowFile = datasource.shadowDatabaseUrl ? sqliteFilePath(datasource.shadowDatabaseUrl) : MEMORY;
  const base = new PrismaBetterSqlite3({ url: file }, { shadowDatabaseUrl: shadowFile });
  const open = new Set();
  const factory = {
    provider: base.provider,
    adapterName: base.adapterName,
    async connect() {
      ensureDatabaseFile(file);
      const adapter = await base.connect();
      open.add(adapter);
      return withQuirks(adapter, note);
    },
    async connectToShadowDb() {
      ensureDatabaseFile(shadowFile);
      return withQuirks(await base.connectToShadowDb(), note);
    },
  };
  return {
    file,
    factory: bindMigrationAwareSqlAdapterFactory(factory),
    async closeMain() {
      for (const adapter of open) await adapter.dispose();
      open.clear();
    },
  };
}
