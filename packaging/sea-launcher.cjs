// The main script of the single-executable checker (Node SEA). Node 20 runs only one CommonJS file inside a SEA and
// cannot load ES modules or native addons from the executable itself, so the package (the ESM bundle, the migrations
// and better-sqlite3's compiled addon) travels as SEA assets and is written once to a cache folder named after its
// content hash; then a file on disk imports the bundle. Nothing is downloaded.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sea = require('node:sea');

const manifest = JSON.parse(sea.getAsset('manifest.json', 'utf8'));
const base =
  process.env.CPNET_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'cpnet');
const dir = path.join(base, `${manifest.name}-${manifest.hash}`);

function extract() {
  // Written beside, then renamed: two first runs at once must not see half a package.
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const file of manifest.files) {
    const to = path.join(tmp, file);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.writeFileSync(to, new Uint8Array(sea.getRawAsset(`files/${file}`)));
  }
  const check = createHash('sha256');
  for (const file of manifest.files) check.update(file).update(fs.readFileSync(path.join(tmp, file)));
  if (check.digest('hex').slice(0, 16) !== manifest.hash)
    throw new Error('the extracted package does not match its hash');
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, manifest.entry))) throw e;
  }
}

try {
  if (!fs.existsSync(path.join(dir, manifest.entry))) extract();
} catch (e) {
  process.stderr.write(
    `cpnet: cannot unpack the checker into ${dir}: ${e.message} (set CPNET_CACHE_DIR to a writable folder)\n`,
  );
  process.exit(3);
}
// A CommonJS file on disk may import() an ES module; the SEA's own script may not (Node 20).
const loaderFile = path.join(dir, 'sea-load.cjs');
const load = require('node:module').createRequire(loaderFile)(loaderFile);
load(path.join(dir, manifest.entry));
