// Loads @prisma/schema-engine-wasm on Node 20.
// The package's own entry does `import * as wasm from "./x.wasm"` (ES module integration for wasm), which
// Node 20 cannot load, so we instantiate the .wasm ourselves with the generated JS glue as its import object.
/* global WebAssembly -- a Node built-in the root ESLint config does not list */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const gluePath = fileURLToPath(import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
const packageDir = path.dirname(gluePath);

/** The version of the wasm engine package, read without compiling the 5 MB module (used by `--version`). */
export function wasmPackageVersion() {
  return JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version;
}

let gluePromise;
let lastPanic;

// The engine's panic hook hands the Rust panic message to global.PRISMA_WASM_PANIC_REGISTRY; without this object
// the hook itself throws and a panic surfaces only as "RuntimeError: unreachable".
globalThis.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (message) => (lastPanic = message) };

/** The message of the last panic inside the wasm engine, if any. */
export const lastPanicMessage = () => lastPanic;

/** The wasm-bindgen glue module (exports `SchemaEngine`, `version`), instantiated once per process. */
export function loadGlue() {
  gluePromise ??= (async () => {
    const glue = await import(gluePath);
    const bytes = readFileSync(path.join(packageDir, 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    instance.exports.__wbindgen_start();
    return glue;
  })();
  return gluePromise;
}

/**
 * A wasm SchemaEngine over the given schema files and adapter factory.
 * @param {{ datamodels: [string, string][] | undefined, adapterFactory: object, log: (line: string) => void }} options
 */
export async function createWasmEngine({ datamodels, adapterFactory, log }) {
  const glue = await loadGlue();
  return glue.SchemaEngine.new({ datamodels }, log, adapterFactory);
}
