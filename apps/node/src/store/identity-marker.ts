import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The identity marker beside `node.db`: which node this data folder holds (code and RFC 7638 thumbprint of its
 * key). It outlives a lost or emptied database, so the node refuses to start as a brand-new one (new key, broken
 * chain for every child) where one existed before.
 */
const IDENTITY_MARKER = 'node.identity';

/** What the marker records. */
interface IdentityMarker {
  readonly code: string;
  readonly thumbprint: string;
}

/** The data folder shows a node that existed, but its database is missing, empty or another node's. */
export class NodeIdentityMismatch extends Error {}

const markerFile = (dataDir: string) => path.join(dataDir, IDENTITY_MARKER);
const restoreHint = (dataDir: string) =>
  `restore its database from a backup: cpnet node restore --from <backup> --data ${dataDir} --force`;

/** The marker of a data folder, or null when it has none (a new folder, or one from before markers). */
function readIdentityMarker(dataDir: string): IdentityMarker | null {
  const file = markerFile(dataDir);
  if (!existsSync(file)) return null;
  const m = JSON.parse(readFileSync(file, 'utf8')) as Partial<IdentityMarker>;
  if (typeof m.code !== 'string' || typeof m.thumbprint !== 'string')
    throw new NodeIdentityMismatch(`${file} is not an identity marker ({ code, thumbprint })`);
  return { code: m.code, thumbprint: m.thumbprint };
}

/** Refuses a data folder whose marker shows a node but whose database file is missing or empty. */
export function checkDatabasePresent(dataDir: string, dbFile: string): void {
  const m = readIdentityMarker(dataDir);
  if (!m) return;
  if (!existsSync(dbFile) || statSync(dbFile).size === 0)
    throw new NodeIdentityMismatch(
      `${dataDir} held node ${m.code} (key ${m.thumbprint}) but ${path.basename(dbFile)} is ` +
        `${existsSync(dbFile) ? 'empty' : 'missing'}; refusing to start it as a new node — ${restoreHint(dataDir)}`,
    );
}

/** Refuses a database without a key where the marker shows a node: it would generate a new identity. */
export function checkKeyPresent(dataDir: string, hasKey: boolean): void {
  const m = readIdentityMarker(dataDir);
  if (m && !hasKey)
    throw new NodeIdentityMismatch(
      `${dataDir} held node ${m.code} (key ${m.thumbprint}) but its database holds no key; refusing to start it ` +
        `as a new node — ${restoreHint(dataDir)}`,
    );
}

/** Writes the marker on first start; afterwards refuses a database holding another node's identity. */
export function checkIdentityMarker(dataDir: string, identity: IdentityMarker): void {
  const m = readIdentityMarker(dataDir);
  if (!m) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(markerFile(dataDir), `${JSON.stringify(identity)}\n`, { mode: 0o644 });
    return;
  }
  if (m.code !== identity.code || m.thumbprint !== identity.thumbprint)
    throw new NodeIdentityMismatch(
      `${dataDir} held node ${m.code} (key ${m.thumbprint}) but its database is ${identity.code} (key ` +
        `${identity.thumbprint}); ${restoreHint(dataDir)}`,
    );
}

/** Sets the marker aside after a restore: the restored database is the identity the next start records. */
export function setIdentityMarkerAside(dataDir: string, now: number): void {
  const file = markerFile(dataDir);
  if (existsSync(file)) renameSync(file, `${file}.before-restore-${now}`);
}
