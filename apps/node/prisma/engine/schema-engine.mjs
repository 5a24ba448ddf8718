#!/usr/bin/env node
// A stand-in for Prisma's native `schema-engine` binary, built on @prisma/schema-engine-wasm and better-sqlite3.
// Prisma 7's CLI downloads the native engine before every command, which fails without internet;
// prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY here instead. The CLI speaks to this process as it would to
// the binary: `--version`, `cli <command>` one-shot commands, or JSON-RPC 2.0 over stdin/stdout, one message a
// line, with JSON log lines `{level, fields, target}` on stderr.
/* global WebAssembly -- a Node built-in the root ESLint config does not list */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {
  createAdapterFactory,
  dropDatabaseFile,
  ensureDatabaseFile,
  sqliteFilePath,
  truncateDatabaseFile,
} from './sqlite-adapter.mjs';
import { createWasmEngine, lastPanicMessage, wasmPackageVersion } from './wasm-engine.mjs';
import { createPostgresAdapterFactory, isPostgresUrl, postgresCliCommand } from './postgres-adapter.mjs';

function parseArgs(argv) {
  const args = { datamodels: [], datasource: {}, version: false, cli: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--version' || arg === '-V') args.version = true;
    else if (arg === '--datamodels') args.datamodels.push(argv[++i]);
    else if (arg === '--datasource') args.datasource = JSON.parse(argv[++i]);
    else if (arg === 'cli') args.cli = argv[++i];
    else if (arg === '--enabled-preview-features' || arg === '--extension-types') i++; // nothing to enable on SQLite
  }
  return args;
}

function logLine(level, fields) {
  return JSON.stringify({ timestamp: new Date().toISOString(), level, fields, target: 'schema_engine::logger' });
}

/**
 * One-shot commands. The CLI reads a failure from stderr, skipping the first line and parsing every other line as
 * JSON, looking for an ERROR with `error_code`; so we always start with an INFO line, as the native binary does.
 */
function runCliCommand(command, datasource) {
  const lines = [logLine('INFO', { message: 'Starting schema engine CLI (wasm bridge)' })];
  const fail = (error_code, message) => {
    lines.push(logLine('ERROR', { is_panic: false, error_code, message }));
    process.stderr.write(lines.join('\n') + '\n');
    process.exitCode = 1;
  };
  if (!datasource.url) return fail('P1012', 'No datasource URL was given (--datasource).');
  if (isPostgresUrl(datasource.url)) {
    return postgresCliCommand(command, datasource.url).then(([code, message]) => {
      if (code) return fail(code, message);
      if (message) process.stdout.write(message + '\n');
      process.stderr.write(lines.join('\n') + '\n');
    });
  }
  const file = sqliteFilePath(datasource.url);
  const name = path.basename(file);
  if (command === 'can-connect-to-database') {
    // The native engine reports a missing SQLite file as P1003; the CLI then asks for create-database.
    if (file !== ':memory:' && !existsSync(file))
      return fail('P1003', `Database \`${name}\` does not exist at \`${file}\`.`);
  } else if (command === 'create-database') {
    ensureDatabaseFile(file);
    process.stdout.write(`Database '${name}' was successfully created.\n`);
  } else if (command === 'drop-database') {
    dropDatabaseFile(file);
    process.stdout.write(`The database '${name}' was successfully dropped.\n`);
  } else {
    return fail('P1000', `Unknown schema engine cli command \`${command}\`.`);
  }
  process.stderr.write(lines.join('\n') + '\n');
}

/**
 * A JSON-RPC error in the shape the CLI unpacks: `error.data.{message, error_code}`, or for a panic
 * `error.data.error.message` with `is_panic`.
 */
function rpcError(error) {
  const isPanic = error instanceof WebAssembly.RuntimeError;
  const message = (isPanic && lastPanicMessage()) || (error?.message ?? String(error));
  const data = { is_panic: isPanic, message, error_code: error?.code, meta: error?.meta ?? null };
  return { code: 4466, message, data: isPanic ? { ...data, error: { message } } : data };
}

function serveRpc({ datamodels, datasource }) {
  const files = datamodels.map((file) => [file, readFileSync(file, 'utf8')]);
  const log = (line) => process.stderr.write(String(line).trim() + '\n');
  const adapters = isPostgresUrl(datasource.url)
    ? createPostgresAdapterFactory(datasource)
    : createAdapterFactory(datasource, (message) => log(logLine('INFO', { message })));
  const send = (message) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n');
  let engine;
  const getEngine = async () =>
    (engine ??= await createWasmEngine({
      datamodels: files.length > 0 ? files : undefined,
      adapterFactory: adapters.factory,
      log,
    }));

  // Requests we send to the CLI (only `print`), awaiting its answer.
  const pending = new Map();
  let nextId = 1_000_000;
  const ask = (method, params) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      send({ id, method, params });
    });

  // Quirk 4: evaluateDataLoss and createMigration get no shadow-database factory inside the wasm engine; they
  // only work when an earlier call cached the schema of the same migration list. `migrate dev` calls them after
  // applying pending migrations, so a diagnosis now (which replays the applied ones into a shadow database and
  // caches the result) fills that cache. Without it, a `migrate dev` that first applies someone else's
  // migrations fails with "SQLite shadow DB must be provided through an external factory".
  const withShadowSchemaCached = (method) => async (params) => {
    const current = await getEngine();
    const { migrationsList, filters } = params;
    await current.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: true, filters }).catch(() => {});
    return current[method](params);
  };

  const methods = {
    evaluateDataLoss: withShadowSchemaCached('evaluateDataLoss'),
    createMigration: withShadowSchemaCached('createMigration'),
    // The native engine prints the diff itself through a `print` request; the CLI captures it for --output.
    async diff(params) {
      const result = await (await getEngine()).diff(params);
      if (result.stdout != null) await ask('print', { content: result.stdout });
      return { ...result, stdout: null };
    },
    // Quirk 3: reset must leave an empty database, as the native engine does by truncating the file.
    async reset(params) {
      // On PostgreSQL the engine's own reset (drop and re-create the schema) is the native behaviour.
      if (adapters.file === ':memory:' || adapters.file === null) return (await getEngine()).reset(params);
      const old = engine;
      engine = undefined;
      await adapters.closeMain();
      old?.free();
      truncateDatabaseFile(adapters.file);
      return {};
    },
    async createDatabase(params) {
      if (adapters.file === null) {
        const url = params?.datasource?.tag === 'ConnectionString' ? params.datasource.url : datasource.url;
        const [code, message] = await postgresCliCommand('create-database', url);
        if (code) throw Object.assign(new Error(message), { code });
        return { databaseName: new URL(url).pathname.slice(1) };
      }
      ensureDatabaseFile(adapters.file);
      return { databaseName: path.basename(adapters.file) };
    },
    async getDatabaseVersion(params) {
      return (await getEngine()).version(params);
    },
  };

  async function handle(request) {
    const { id, method, params } = request;
    try {
      const own = methods[method];
      const current = own ? null : await getEngine();
      if (!own && typeof current[method] !== 'function') {
        return send({ id, error: { code: -32601, message: `Method not found: ${method}` } });
      }
      const result = own ? await own(params) : await current[method](params);
      send({ id, result: result ?? {} });
    } catch (error) {
      send({ id, error: rpcError(error) });
      // A panicked wasm instance cannot be trusted with another request; the native binary exits with 101 too.
      if (error instanceof WebAssembly.RuntimeError) process.exit(101);
    }
  }

  // Requests run one at a time, in order, as in the native engine; answers to our own requests bypass the queue.
  let queue = Promise.resolve();
  readline
    .createInterface({ input: process.stdin, crlfDelay: Infinity })
    .on('line', (line) => {
      if (!line.trim()) return;
      const message = JSON.parse(line);
      if (message.method === undefined && pending.has(message.id)) {
        pending.get(message.id)(message.result);
        pending.delete(message.id);
        return;
      }
      queue = queue.then(() => handle(message));
    })
    .on('close', () => {
      queue.then(async () => {
        await adapters.closeMain();
        process.exit(0);
      });
    });
}

const args = parseArgs(process.argv.slice(2));
if (args.version) {
  // The CLI shows this in `prisma --version`; the native binary prints "schema-engine-cli <hash>".
  process.stdout.write(`schema-engine-cli ${wasmPackageVersion().split('.').pop()} (wasm bridge)\n`);
} else if (args.cli) {
  runCliCommand(args.cli, args.datasource);
} else {
  serveRpc(args);
}
