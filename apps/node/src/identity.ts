import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decryptPrivateKey, encryptPrivateKey, resolvePassphrase, type PrivateKeyHandle } from '@cpnet/security';
import {
  ed25519Handle,
  ed25519Profile,
  generateKeyPair,
  issueRootCertificate,
  signDelegation,
  verifyDelegation,
  b64url,
  type KeyPair,
  type PublicKeyHandle,
} from '@cpnet/security';
import { parentPrefix } from '@cpnet/identifier';
import type { NodeConfig } from './config.ts';
import type { NodeDeps } from './deps.ts';
import type { Settings } from './store/settings.ts';

const YEAR_MS = 365 * 86_400_000;

/** Who this node is: its keys, and once it has them its certificate, chain (own certificate first, root last) and delegation. */
export interface NodeIdentity {
  readonly keys: KeyPair;
  readonly publicKeyPem: string;
  certificate: string | null;
  chain: string[];
  root: string | null;
  delegation: string | null;
}

/** The public key inside a PEM certificate. */
export function certificateKey(pem: string): PublicKeyHandle {
  return ed25519Handle(new X509Certificate(pem).publicKey) as PublicKeyHandle;
}

/** Imports a PEM (SPKI) public key. */
export const importPublicKey = (pem: string): PublicKeyHandle => ed25519Profile.importPublicKey(pem);

/**
 * Loads the node's identity from its settings, creating its key pair on first start. The national node also
 * self-signs the root certificate and delegates `CPN` to itself. A stored delegation is checked against the
 * configured code: a mismatch refuses the start.
 */
export async function loadIdentity(
  settings: Settings,
  ctx: { config: NodeConfig; deps: NodeDeps; env?: Readonly<Record<string, string | undefined>> },
): Promise<NodeIdentity> {
  const passphrase = keyPassphrase(ctx);
  const privateKey = await privateKeyAtRest(settings, { ...ctx, passphrase });
  const keys: KeyPair = { privateKey, publicKey: privateKey.publicKey };
  const identity: NodeIdentity = {
    keys,
    publicKeyPem: ed25519Profile.exportPublicKey(keys.publicKey),
    certificate: settings.get('certificate') ?? null,
    chain: settings.getJson<string[]>('chain') ?? [],
    root: settings.get('root') ?? null,
    delegation: settings.get('delegation') ?? null,
  };
  if (ctx.config.role === 'national' && identity.certificate === null)
    await bootstrapRoot(identity, settings, ctx.deps);
  if (identity.delegation !== null) await checkDelegation(identity, ctx);
  return identity;
}

/** The file beside the database holding a generated development passphrase (owner read/write only). */
const DEV_PASSPHRASE_FILE = 'key-passphrase';

/** Thrown when the node's private key cannot be decrypted or no usable passphrase is given (the CLI exits 2). */
export class KeyPassphraseError extends Error {}

/**
 * The passphrase the node's key is encrypted with: CPNET_KEY_PASSPHRASE, else the `passphraseFile` of the
 * configuration, else a generated development passphrase kept beside the database (0600) with a warning in the log.
 */
function keyPassphrase(ctx: {
  config: NodeConfig;
  deps: NodeDeps;
  env?: Readonly<Record<string, string | undefined>>;
}): string {
  const devPath = path.join(ctx.config.dataDir, DEV_PASSPHRASE_FILE);
  let passphraseFile: string | null = null;
  if (ctx.config.passphraseFile) {
    try {
      passphraseFile = readFileSync(ctx.config.passphraseFile, 'utf8');
    } catch (e) {
      throw new KeyPassphraseError(
        `passphraseFile: ${ctx.config.passphraseFile} cannot be read: ${(e as Error).message}`,
      );
    }
  }
  const devFile = existsSync(devPath) ? readFileSync(devPath, 'utf8') : null;
  const r = resolvePassphrase({
    env: ctx.env ?? process.env,
    passphraseFile,
    devFile,
    generate: () => b64url(ctx.deps.randomBytes(32)),
  });
  if (!r.ok) throw new KeyPassphraseError(r.error);
  if (r.value.persist) {
    writeFileSync(devPath, r.value.persist.content, { mode: r.value.persist.mode });
    chmodSync(devPath, r.value.persist.mode);
  }
  if (r.value.warning) ctx.deps.logger.warn({ file: devPath }, r.value.warning);
  return r.value.passphrase;
}

/**
 * The node's private key, kept encrypted in NodeSetting `key.private` (PKCS#8 PBES2). Created on first start; a key
 * stored in clear by an earlier version is encrypted in place. A wrong passphrase refuses the start.
 */
async function privateKeyAtRest(
  settings: Settings,
  ctx: { deps: NodeDeps; passphrase: string },
): Promise<PrivateKeyHandle> {
  const stored = settings.get('key.private');
  if (stored === undefined) {
    const generated = generateKeyPair({ randomBytes: ctx.deps.randomBytes });
    await settings.set('key.private', encryptPrivateKey(generated.privateKey, ctx.passphrase, ctx.deps.randomBytes));
    return generated.privateKey;
  }
  if (!stored.includes('ENCRYPTED')) {
    const key = ed25519Profile.importPrivateKey(stored);
    await settings.set('key.private', encryptPrivateKey(key, ctx.passphrase, ctx.deps.randomBytes));
    ctx.deps.logger.info('the private key was stored unencrypted; it is now encrypted at rest');
    return key;
  }
  const r = decryptPrivateKey(stored, ctx.passphrase);
  if (!r.ok) throw new KeyPassphraseError(`the node's private key cannot be decrypted: ${r.error}`);
  return r.value;
}

async function bootstrapRoot(identity: NodeIdentity, settings: Settings, deps: NodeDeps): Promise<void> {
  const now = deps.clock.now();
  const root = await issueRootCertificate(
    { notBefore: now - 86_400_000, notAfter: now + 10 * YEAR_MS, privateKey: identity.keys.privateKey },
    { randomBytes: deps.randomBytes },
  );
  const delegation = await signDelegation(
    {
      iss: 'CPN',
      prefix: 'CPN',
      serial: b64url(deps.randomBytes(9)),
      nbf: Math.floor(now / 1000) - 60,
      exp: Math.floor((now + 10 * YEAR_MS) / 1000),
    },
    { parentKey: identity.keys.privateKey, childPublicKey: identity.keys.publicKey },
  );
  Object.assign(identity, { certificate: root, chain: [root], root, delegation });
  await settings.set('certificate', root);
  await settings.setJson('chain', [root]);
  await settings.set('root', root);
  await settings.set('delegation', delegation);
}

/** Thrown when the stored delegation does not allow this node to start with its configured code. */
export class DelegationMismatch extends Error {}

async function checkDelegation(identity: NodeIdentity, ctx: { config: NodeConfig; deps: NodeDeps }): Promise<void> {
  const parentCert = ctx.config.role === 'national' ? identity.certificate : identity.chain[1];
  if (!parentCert || !identity.delegation) return;
  const r = await verifyDelegation(identity.delegation, {
    parentPublicKey: certificateKey(parentCert),
    childPublicKey: identity.keys.publicKey,
    clock: ctx.deps.clock,
    configuredCode: ctx.config.code,
  });
  if (!r.ok) throw new DelegationMismatch(`${r.error.code}: ${r.error.reason}`);
  const expectedIssuer = parentPrefix(ctx.config.code) ?? 'CPN';
  if (r.value.iss !== expectedIssuer)
    throw new DelegationMismatch(`delegation issued by ${r.value.iss}, expected ${expectedIssuer}`);
}
