// The PostgreSQL side of the wasm schema engine: @prisma/adapter-pg (node-postgres) as the driver adapter, and the
// one-shot database commands (can-connect, create, drop) the native engine performs itself.
import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';

/** Whether a datasource URL names a PostgreSQL server. */
export const isPostgresUrl = (url) => /^postgres(ql)?:\/\//.test(url ?? '');

const databaseName = (url) => decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
const adminUrl = (url) => {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
};
const ident = (name) => `"${name.replaceAll('"', '""')}"`;

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * `cli can-connect-to-database | create-database | drop-database` on PostgreSQL. Returns [errorCode, message] on a
 * failure the CLI understands (P1003: the database does not exist; P1001: the server cannot be reached).
 */
export async function postgresCliCommand(command, url) {
  const name = databaseName(url);
  try {
    if (command === 'can-connect-to-database') await withClient(url, () => {});
    else if (command === 'create-database')
      await withClient(adminUrl(url), (c) => c.query(`CREATE DATABASE ${ident(name)}`));
    else if (command === 'drop-database')
      await withClient(adminUrl(url), (c) => c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
    else return ['P1000', `Unknown schema engine cli command \`${command}\`.`];
  } catch (error) {
    if (error?.code === '3D000') return ['P1003', `Database \`${name}\` does not exist on the database server`];
    if (error?.code === 'ECONNREFUSED' || error?.code === 'ENOTFOUND')
      return ['P1001', `Can't reach database server at \`${new URL(url).host}\``];
    return ['P1000', String(error?.message ?? error)];
  }
  if (command === 'create-database') return [null, `Database '${name}' was successfully created.`];
  if (command === 'drop-database') return [null, `The database '${name}' was successfully dropped.`];
  return [null, ''];
}

const CHAR_OID = 18; // PostgreSQL's one-byte "char"
const TEXT_OID = 25;

/**
 * Quirk 1: adapter-pg has no column type for PostgreSQL's one-byte `"char"` (pg_constraint.contype,
 * pg_class.relkind …) and fails the query with UnsupportedNativeDataType, which the wasm engine's schema describer
 * reports as "Column type 'char' could not be deserialized from the database". The native engine reads those
 * columns as text. So every command that describes a database (migrate dev, diff --from-migrations,
 * diff --from-config-datasource, db pull) fails through the adapter; the pool below reports them as text (the
 * value is already a one-character string).
 */
const charAsText = (result) => {
  for (const field of result?.fields ?? []) if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
  return result;
};

function patchQuery(client) {
  const query = client.query.bind(client);
  client.query = (...args) => {
    const out = query(...args);
    return out && typeof out.then === 'function' ? out.then(charAsText) : out;
  };
  return client;
}

/** A pg.Pool whose query results (its own and its clients') report "char" columns as text. */
function charAsTextPool(config) {
  const pool = patchQuery(new pg.Pool(config));
  // An idle connection ended by the server (a dropped shadow database) must not crash the engine.
  pool.on('error', () => {});
  const connect = pool.connect.bind(pool);
  pool.connect = (...args) => {
    if (args.length > 0) return connect(...args);
    return connect().then((client) =>
      client.__charAsText ? client : patchQuery(Object.assign(client, { __charAsText: true })),
    );
  };
  return pool;
}

/** A node-postgres config of separate fields (adapter-pg's shadow database overrides `database`, which a
 * connectionString would win over: the shadow database would be the main one). */
function configOf(url) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || undefined,
    password: decodeURIComponent(u.password) || undefined,
    database: databaseName(url),
  };
}

/**
 * The adapter factory handed to the wasm engine for a PostgreSQL datasource. With no shadowDatabaseUrl, adapter-pg
 * creates a throw-away shadow database on the same server (so the user needs CREATEDB), as the native engine does.
 * @param {{ url: string, shadowDatabaseUrl?: string }} datasource
 */
export function createPostgresAdapterFactory(datasource) {
  const base = new PrismaPg(charAsTextPool(configOf(datasource.url)), { disposeExternalPool: true });
  const open = new Set();
  const factory = {
    provider: base.provider,
    adapterName: base.adapterName,
    async connect() {
      const adapter = await base.connect();
      open.add(adapter);
      return adapter;
    },
    /**
     * Quirk 2: adapter-pg's own shadow database (with no shadowDatabaseUrl) connects to the main database when the
     * config is a connection string, and drops the shadow database before closing its pool, which fails ("being
     * accessed by other users"). So: a throw-away database made here, closed first and then dropped.
     */
    async connectToShadowDb() {
      if (datasource.shadowDatabaseUrl)
        return new PrismaPg(charAsTextPool(configOf(datasource.shadowDatabaseUrl)), {
          disposeExternalPool: true,
        }).connect();
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      await withClient(adminUrl(datasource.url), (c) => c.query(`CREATE DATABASE ${ident(name)}`));
      const adapter = await new PrismaPg(charAsTextPool({ ...configOf(datasource.url), database: name }), {
        disposeExternalPool: true,
      }).connect();
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        await withClient(adminUrl(datasource.url), (c) =>
          c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`),
        );
      };
      return adapter;
    },
  };
  return {
    file: null,
    factory: bindMigrationAwareSqlAdapterFactory(factory),
    async closeMain() {
      for (const adapter of open) await adapter.dispose();
      open.clear();
    },
  };
}
