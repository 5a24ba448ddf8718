// Wraps a built package folder (build.mjs) into a Node single-executable application: a copy of this Node binary
// with the launcher and the package's files injected by postject (from npm, a devDependency). See sea-launcher.cjs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function listFiles(dir, prefix = '') {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => {
      const rel = path.posix.join(prefix, e.name);
      return e.isDirectory() ? listFiles(dir, rel) : [rel];
    })
    .sort();
}

/** Builds `<out>/<name>-<platform>` from the package folder `dir`; returns its path. */
export async function buildSea({ root, dir, name, out, platform }) {
  // Some distributions' Node builds leave the fuse out; postject would then fail with a less useful message.
  if (!readFileSync(process.execPath).includes(FUSE))
    throw new Error(
      `${process.execPath} has no ${FUSE}: this Node cannot make single executables; build without --sea ` +
        '(the self-contained package) or with the official Node binary',
    );
  const work = mkdtempSync(path.join(tmpdir(), 'cpnet-sea-'));
  try {
    // The file the launcher requires from the cache folder to import() the ES module bundle.
    writeFileSync(
      path.join(dir, 'sea-load.cjs'),
      "'use strict';\nconst { pathToFileURL } = require('node:url');\n" +
        'module.exports = (entry) =>\n  import(pathToFileURL(entry).href).catch((e) => {\n' +
        '    process.stderr.write(`cpnet: cannot load ${entry}: ${e && e.message}\\n`);\n    process.exit(3);\n  });\n',
    );
    const files = listFiles(dir);
    const hash = createHash('sha256');
    for (const f of files) hash.update(f).update(readFileSync(path.join(dir, f)));
    const manifest = { name, entry: `${name}.mjs`, hash: hash.digest('hex').slice(0, 16), files };
    writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest));
    const assets = { 'manifest.json': path.join(work, 'manifest.json') };
    for (const f of files) assets[`files/${f}`] = path.join(dir, f);
    const blob = path.join(work, 'sea.blob');
    const config = path.join(work, 'sea-config.json');
    writeFileSync(
      config,
      JSON.stringify({
        main: path.join(root, 'packaging/sea-launcher.cjs'),
        output: blob,
        disableExperimentalSEAWarning: true,
        assets,
      }),
    );
    execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exe = path.join(out, `${name}-${platform}`);
    rmSync(exe, { force: true });
    copyFileSync(process.execPath, exe);
    chmodSync(exe, 0o755);
    execFileSync(
      process.execPath,
      [path.join(root, 'node_modules/postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    return exe;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
