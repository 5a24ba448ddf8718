#!/usr/bin/env node
// Builds the installable pieces of cpnet without the monorepo (issue 25):
//   check  the joint-debugging checker (`cpnet id …`, `cpnet check …`): packaging/dist/cpnet-check/ and its tarball,
//          and with --sea a Node single-executable application (self-extracting, see sea-launcher.cjs)
//   node   the node as an offline bundle (`cpnet node …`, `cpnet id …`) with its systemd unit, environment file and
//          install guide: packaging/dist/cpnet-node/ and cpnet-node-<version>-linux-x64.tar.gz
// Usage: node packaging/build.mjs check|node [--out <dir>] [--sea] [--no-tar]
// Everything comes from this checkout's node_modules: nothing is downloaded (the native SQLite addon is the one
// node-gyp built at `npm install`, so the bundle runs on the same platform, CPU architecture and Node ABI only).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = JSON.parse(readFileSync(path.join(ROOT, 'apps/cli/package.json'), 'utf8')).version;
const PLATFORM = `${process.platform}-${process.arch}`;

const TARGETS = {
  check: { entry: 'apps/cli/src/entries/check.ts', name: 'cpnet-check' },
  node: { entry: 'apps/cli/src/entries/node.ts', name: 'cpnet-node' },
};

function fail(message, code = 2) {
  process.stderr.write(`packaging: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const [target, ...rest] = argv;
  if (!target || !(target in TARGETS))
    fail(`usage: node packaging/build.mjs check|node [--out <dir>] [--sea] [--no-tar]`);
  const opts = { target, out: path.join(ROOT, 'packaging/dist'), sea: false, tar: true };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--out' && rest[i + 1]) opts.out = path.resolve(rest[++i]);
    else if (a === '--sea') opts.sea = true;
    else if (a === '--no-tar') opts.tar = false;
    else fail(`unknown option "${a}"`);
  }
  return opts;
}

// The bundle finds its migrations beside itself: migrate.ts's default folder is relative to its source file, which
// no longer exists once bundled. The build stops when the line it rewrites has changed, rather than ship a node that
// would fail at start.
const migrationsBesideBundle = {
  name: 'migrations-beside-bundle',
  setup(build) {
    const beside = (file, folder) =>
      build.onLoad({ filter: new RegExp(`apps[\\\\/]node[\\\\/]src[\\\\/]store[\\\\/]${file}\\.ts$`) }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const from = `new URL('../../prisma/${folder}', import.meta.url)`;
        if (!source.includes(from))
          throw new Error(`${args.path} no longer contains ${from}: update packaging/build.mjs`);
        return { contents: source.replace(from, `new URL('./${folder}', import.meta.url)`), loader: 'ts' };
      });
    beside('migrate', 'migrations');
    beside('migrate-postgres', 'migrations-postgres');
  },
};

// ESM output: CommonJS dependencies bundled inside still call require() for Node's built-ins and for the one external
// (better-sqlite3, a native addon shipped beside the bundle in node_modules/). The ABI guard turns a wrong Node into
// a clear message and exit 3 (the environment), instead of a dlopen stack trace at the first query.
function banner(abi) {
  return [
    `import { createRequire as __cpnetCreateRequire } from 'node:module';`,
    `const require = __cpnetCreateRequire(import.meta.url);`,
    `const __cpnetBuiltFor = ${JSON.stringify(abi)};`,
    `if (process.versions.modules !== __cpnetBuiltFor.modules || process.platform !== __cpnetBuiltFor.platform ||`,
    `    process.arch !== __cpnetBuiltFor.arch) {`,
    `  process.stderr.write('cpnet: this package was built for Node ' + __cpnetBuiltFor.node + ' (ABI ' +`,
    `    __cpnetBuiltFor.modules + ') on ' + __cpnetBuiltFor.platform + '-' + __cpnetBuiltFor.arch + '; ' +`,
    `    'this is Node ' + process.versions.node + ' (ABI ' + process.versions.modules + ') on ' +`,
    `    process.platform + '-' + process.arch + '\\n');`,
    `  process.exit(3);`,
    `}`,
  ].join('\n');
}

async function bundle(target, dir) {
  const { entry, name } = TARGETS[target];
  const abi = {
    node: process.versions.node,
    modules: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
  };
  const outfile = path.join(dir, `${name}.mjs`);
  await esbuild.build({
    stdin: {
      contents:
        `import { main } from ${JSON.stringify(path.join(ROOT, entry))};\n` +
        `const code = await main(process.argv);\n` +
        // Same as bin/cpnet.js: a finished command must not be kept alive by an idle handle.
        `process.exit(code);\n`,
      resolveDir: ROOT,
      sourcefile: `${name}-entry.mjs`,
      loader: 'js',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    plugins: [migrationsBesideBundle],
    banner: { js: `#!/usr/bin/env node\n${banner(abi)}` },
    legalComments: 'linked',
    logLevel: 'warning',
    minifySyntax: true,
  });
  chmodSync(outfile, 0o755);
  return { outfile, abi };
}

/** better-sqlite3 with its compiled addon and its one run-time dependency chain (bindings → file-uri-to-path). */
function copyNativeSqlite(dir) {
  const from = path.join(ROOT, 'node_modules');
  const to = path.join(dir, 'node_modules');
  const addon = path.join(from, 'better-sqlite3/build/Release/better_sqlite3.node');
  if (!existsSync(addon)) fail(`${addon} is missing: run npm install (it compiles better-sqlite3)`, 3);
  for (const file of ['package.json', 'LICENSE', 'lib', 'build/Release/better_sqlite3.node'])
    cpSync(path.join(from, 'better-sqlite3', file), path.join(to, 'better-sqlite3', file), { recursive: true });
  for (const pkg of ['bindings', 'file-uri-to-path'])
    cpSync(path.join(from, pkg), path.join(to, pkg), {
      recursive: true,
      filter: (src) => !/[\\/](test|\.github)([\\/]|$)/.test(src),
    });
}

function copyMigrations(dir) {
  cpSync(path.join(ROOT, 'apps/node/prisma/migrations'), path.join(dir, 'migrations'), { recursive: true });
  cpSync(path.join(ROOT, 'apps/node/prisma/migrations-postgres'), path.join(dir, 'migrations-postgres'), {
    recursive: true,
  });
}

/** The package.json of the package: its command, and the platform and Node ABI its native addon was built for. */
function manifest(name, abi) {
  return {
    name,
    version: VERSION,
    private: true,
    type: 'module',
    bin: { [name]: `./${name}.mjs` },
    cpnet: { builtFor: abi },
  };
}

function sizeOf(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.size;
  return Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]);
}

function tarball(out, name) {
  const file = path.join(out, `${name}-${VERSION}-${PLATFORM}.tar.gz`);
  execFileSync('tar', ['-czf', file, '--owner=0', '--group=0', '-C', out, name]);
  return file;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const { name } = TARGETS[opts.target];
  const dir = path.join(opts.out, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { outfile, abi } = await bundle(opts.target, dir);
  copyNativeSqlite(dir);
  copyMigrations(dir);
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest(name, abi), null, 2)}\n`);
  if (opts.target === 'node') {
    const extra = path.join(ROOT, 'packaging/node');
    for (const f of ['cpnet-node.service', 'cpnet-node.env', 'INSTALL.md', 'INSTALL.zh-CN.md'])
      cpSync(path.join(extra, f), path.join(dir, f));
  }
  const made = { dir, bundle: outfile, bytes: { bundle: sizeOf(outfile), dir: sizeOf(dir) } };
  if (opts.tar) {
    made.tarball = tarball(opts.out, name);
    made.bytes.tarball = sizeOf(made.tarball);
  }
  if (opts.sea) {
    const { buildSea } = await import('./sea.mjs');
    made.sea = await buildSea({ root: ROOT, dir, name, out: opts.out, platform: PLATFORM });
    made.bytes.sea = sizeOf(made.sea);
  }
  made.wallMs = Date.now() - started;
  process.stdout.write(`${JSON.stringify(made)}\n`);
}

main().catch((e) => fail(e instanceof Error ? e.message : String(e), 1));
