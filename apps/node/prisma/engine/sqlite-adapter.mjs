// The SQLite side of the wasm schema engine: a better-sqlite3 driver adapter, corrected where the wasm
// engine and better-sqlite3 disagree with what the native engine does, plus the file operations the
// native engine performs itself (create, drop, reset by truncation).
import { closeSync, existsSync, mkdirSync, openSync, rmSync, truncateSync } from "node:fs";
import path from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";

const MEMORY = ":memory:";

/**
 * The file path of a SQLite URL (`file:./dev.db`, `file:/abs/x.db?mode=…`), relative paths resolved against
 * the current directory as the native engine does (the CLI starts the engine in the config's folder).
 * Returns ":memory:" for an in-memory database.
 */
export function sqliteFilePath(url) {
  const bare = url.replace(/^file:/, "").replace(/\?.*$/, "");
  if (bare === MEMORY || bare === "") return MEMORY;
  return path.resolve(bare);
}

/** Creates the database file (and its folder) if missing. */
export function ensureDatabaseFile(file) {
  if (file === MEMORY) return;
  mkdirSync(path.dirname(file), { recursive: true });
  closeSync(openSync(file, "a"));
}

/** Deletes the database file and SQLite's side files. */
export function dropDatabaseFile(file) {
  if (file === MEMORY) return;
  for (const suffix of ["", "-journal", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
}

/**
 * Empties the database, as the native engine's reset does on SQLite. The wasm engine's reset keeps the file
 * and only deletes what it knows about; truncating to zero bytes drops every table, view and pragma state.
 * Callers must close their connections first.
 */
export function truncateDatabaseFile(file) {
  if (file === MEMORY) return;
  for (const suffix of ["-journal", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  if (existsSync(file)) truncateSync(file, 0);
  else ensureDatabaseFile(file);
}

const MIGRATIONS_SELECT = /^\s*SELECT\s+([\s\S]+?)\s+FROM\s+[`"]?_prisma_migrations[`"]?/i;
const TEXT_COLUMN = 7; // ColumnTypeEnum.Text; never read, as the answer has no rows

/**
 * Quirk 1: before the first migration the wasm engine reads `_prisma_migrations` and fails with P1014 when
 * it is missing, where the native engine treats a missing table as "no migration applied yet". We answer that
 * read with an empty result; the engine then creates the table itself when it applies the first migration.
 */
async function queryRaw(adapter, query) {
  try {
    return await adapter.queryRaw(query);
  } catch (error) {
    const select = MIGRATIONS_SELECT.exec(query.sql);
    if (!select || error?.cause?.kind !== "TableDoesNotExist") throw error;
    const columnNames = select[1].split(",").map((column) => column.trim());
    return { columnNames, columnTypes: columnNames.map(() => TEXT_COLUMN), rows: [] };
  }
}

/**
 * Quirk 2: when it replays migrations into the shadow database the wasm engine sends whole multi-statement
 * scripts through executeRaw, which better-sqlite3's prepare() rejects ("more than one statement").
 * Such a script has no parameters, so running it with exec() is equivalent.
 */
async function executeRaw(adapter, query) {
  try {
    return await adapter.executeRaw(query);
  } catch (error) {
    if (query.args.length > 0 || !/more than one statement/.test(String(error?.message))) throw error;
    await adapter.executeScript(query.sql);
    return 0;
  }
}

function withQuirks(adapter) {
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => queryRaw(adapter, query),
    executeRaw: (query) => executeRaw(adapter, query),
    executeScript: (script) => adapter.executeScript(script),
    startTransaction: (isolationLevel) => adapter.startTransaction(isolationLevel),
    dispose: () => adapter.dispose(),
  };
}

/**
 * The adapter factory handed to the wasm engine, and a way to close the main database's connections
 * (needed before truncating its file). The shadow database is in memory unless a shadow URL is given.
 * @param {{ url?: string, shadowDatabaseUrl?: string }} datasource
 */
export function createAdapterFactory(datasource) {
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
      return withQuirks(adapter);
    },
    async connectToShadowDb() {
      ensureDatabaseFile(shadowFile);
      return withQuirks(await base.connectToShadowDb());
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
