import { createCipheriv, createDecipheriv, createPrivateKey, scryptSync } from 'node:crypto';
import { err, ok, type Result } from '@cpnet/kernel';
import type { PrivateKeyHandle } from '../crypto/profile.ts';
import { profileOf, cryptoProfile } from '../crypto/profiles.ts';
import { ed25519Handle, keyObject } from '../crypto/ed25519.ts';
import { cryptoRandomBytes, type RandomBytes } from '../crypto/random.ts';

const SM2_LABEL = 'CPN ENCRYPTED SM2 PRIVATE KEY';
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const MIN_PASSPHRASE = 12;

/**
 * Encrypts a private key for storage with a passphrase. Ed25519: PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2, aes-256-cbc)
 * readable by openssl; SM2: scrypt (N=2^15) + aes-256-gcm in a cpnet PEM block.
 */
export function encryptPrivateKey(
  key: PrivateKeyHandle,
  passphrase: string,
  randomBytes: RandomBytes = cryptoRandomBytes,
): string {
  if (passphrase.length < MIN_PASSPHRASE)
    throw new RangeError(`a key passphrase has at least ${MIN_PASSPHRASE} characters`);
  if (key.profile === 'ed25519') {
    return keyObject(key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }).toString();
  }
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const k = scryptSync(passphrase, salt, 32, SCRYPT);
  const cipher = createCipheriv('aes-256-gcm', k, iv);
  const body = Buffer.concat([cipher.update(profileOf(key).exportPrivateKey(key), 'utf8'), cipher.final()]);
  const blob = Buffer.concat([salt, iv, cipher.getAuthTag(), body]).toString('base64');
  return `-----BEGIN ${SM2_LABEL}-----\n${blob.replace(/(.{64})/g, '$1\n').trim()}\n-----END ${SM2_LABEL}-----\n`;
}

/** Decrypts a key written by `encryptPrivateKey`; a wrong passphrase or a damaged file is an error value. */
export function decryptPrivateKey(pem: string, passphrase: string): Result<PrivateKeyHandle, string> {
  try {
    if (!pem.includes(SM2_LABEL)) {
      if (!pem.includes('ENCRYPTED PRIVATE KEY'))
        return err('the key is not encrypted; refusing to load a plaintext private key');
      return ok(ed25519Handle(createPrivateKey({ key: pem, format: 'pem', passphrase })) as PrivateKeyHandle);
    }
    const blob = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const k = scryptSync(passphrase, blob.subarray(0, 16), 32, SCRYPT);
    const decipher = createDecipheriv('aes-256-gcm', k, blob.subarray(16, 28));
    decipher.setAuthTag(blob.subarray(28, 44));
    const hex = Buffer.concat([decipher.update(blob.subarray(44)), decipher.final()]).toString('utf8');
    return ok(cryptoProfile('sm2').importPrivateKey(hex));
  } catch {
    return err('cannot decrypt the private key: wrong passphrase or damaged key file');
  }
}

/** Where the key passphrase came from. */
export type PassphraseSource = 'env' | 'file' | 'generated-file' | 'generated';

/** The passphrase to use, and what the node must do about it (write the generated one, print a warning). */
export interface PassphraseDecision {
  readonly passphrase: string;
  readonly source: PassphraseSource;
  /** When set, the node writes `content` to the file beside the key with mode 0600 (owner read/write only). */
  readonly persist?: { readonly content: string; readonly mode: 0o600 };
  readonly warning?: string;
}

/**
 * Decides the key passphrase: `CPNET_KEY_PASSPHRASE`, else the `--passphrase-file` content, else a development
 * passphrase kept beside the key (read back if it exists, generated and persisted 0600 otherwise) with a warning.
 * Reading and writing files is the caller's job.
 */
export function resolvePassphrase(input: {
  env: Readonly<Record<string, string | undefined>>;
  passphraseFile?: string | null;
  devFile?: string | null;
  generate?: () => string;
}): Result<PassphraseDecision, string> {
  const fromEnv = input.env.CPNET_KEY_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== '') {
    return fromEnv.length >= MIN_PASSPHRASE
      ? ok({ passphrase: fromEnv, source: 'env' })
      : err(`CPNET_KEY_PASSPHRASE is shorter than ${MIN_PASSPHRASE} characters`);
  }
  if (input.passphraseFile !== undefined && input.passphraseFile !== null) {
    const p = input.passphraseFile.replace(/\r?\n$/, '');
    return p.length >= MIN_PASSPHRASE
      ? ok({ passphrase: p, source: 'file' })
      : err(`the passphrase file holds fewer than ${MIN_PASSPHRASE} characters`);
  }
  const warning =
    'no CPNET_KEY_PASSPHRASE or --passphrase-file: using a generated passphrase kept beside the key (development only)';
  if (input.devFile) return ok({ passphrase: input.devFile.trim(), source: 'generated-file', warning });
  const passphrase = (input.generate ?? (() => Buffer.from(cryptoRandomBytes(32)).toString('base64url')))();
  return ok({ passphrase, source: 'generated', persist: { content: `${passphrase}\n`, mode: 0o600 }, warning });
}
