import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
const require = createRequire("/work/main/apps/node/prisma/engine/x.mjs");
const bgUrl = import.meta.resolve ? null : null;
const bg = await import("/work/main/node_modules/@prisma/schema-engine-wasm/schema_engine_bg.js");
const bytes = readFileSync("/work/main/node_modules/@prisma/schema-engine-wasm/schema_engine_bg.wasm");
const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": bg });
bg.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start();
console.log("version", bg.version());
const { PrismaBetterSqlite3 } = await import("@prisma/adapter-better-sqlite3");
const { bindMigrationAwareSqlAdapterFactory } = await import("@prisma/driver-adapter-utils");
const f = new PrismaBetterSqlite3({ url: "file:/tmp/probe.db" });
const wrap = (a) => new Proxy(a, { get(t, k) { const v = t[k]; if (typeof v === "function" && ["queryRaw","executeRaw","executeScript"].includes(k)) return async (...x) => { console.log("SQL", k, JSON.stringify(x[0]).slice(0,300)); try { return await v.apply(t, x); } catch (e) { console.log("ERR", e.message); throw e; } }; return typeof v === "function" ? v.bind(t) : v; } });
const factory = { provider: f.provider, adapterName: f.adapterName, connect: async () => wrap(await f.connect()), connectToShadowDb: async () => wrap(await f.connectToShadowDb()) };
const schema = readFileSync("prisma/schema.prisma", "utf8");
const engine = await bg.SchemaEngine.new({ datamodels: [["prisma/schema.prisma", schema]] }, (m) => console.log("LOG", typeof m, String(m).slice(0, 300)), bindMigrationAwareSqlAdapterFactory(factory));
const ml = { baseDir: "/tmp/none", lockfile: { path: "migration_lock.toml", content: null }, shadowDbInitScript: "", migrationDirectories: [] };
try { console.log(await engine.diagnoseMigrationHistory({ migrationsList: ml, optInToShadowDatabase: false, filters: { externalTables: [], externalEnums: [] } })); } catch (e) { console.log("REJ", typeof e, e, Object.keys(e), JSON.stringify(e)); }
try { console.log(await engine.diff({ from: { tag: "empty" }, to: { tag: "schemaDatamodel", files: [{ path: "prisma/schema.prisma", content: schema }] }, script: true, exitCode: null, filters: { externalTables: [], externalEnums: [] } })); } catch (e) { console.log("REJ", e); }
