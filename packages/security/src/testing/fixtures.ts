import { createFakeClock } from '@cpnet/kernel';
import { creditCodeCheck, formatIdentifier } from '@cpnet/identifier';
import { generateKeyPair } from '../crypto/profiles.ts';
import type { KeyPair, ProfileName } from '../crypto/profile.ts';
import { seededRandomBytes } from '../crypto/random.ts';
import { issueCertificate, issueRootCertificate } from '../pki/certificates.ts';

/** 2026-03-01T00:00:00Z, the fixed "now" of the tests. */
export const T0 = Date.UTC(2026, 2, 1);
export const DAY = 86_400_000;
export const YEAR = 365 * DAY;

/** A deterministic key pair for tests. */
export function testKeys(seed: number, profile: ProfileName = 'ed25519'): KeyPair {
  return generateKeyPair({ profile, randomBytes: seededRandomBytes(seed) });
}

/** A valid identifier of a kind under a prefix. */
export function identifier(prefix: string, kind: 'PV' | 'SV' | 'ND' | 'CL', serial: string): string {
  const r = formatIdentifier({ prefix, kind, serial });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** The PKI of one branch: national root, Sichuan regional CA, 白酒 industry CA and a provider leaf, all valid at T0. */
export async function buildPki() {
  const rootKeys = testKeys(1),
    regionalKeys = testKeys(2),
    industryKeys = testKeys(3),
    providerKeys = testKeys(4);
  const validity = { notBefore: T0 - DAY, notAfter: T0 + YEAR };
  const root = await issueRootCertificate({ ...validity, privateKey: rootKeys.privateKey, serial: '01' });
  const regional = await issueCertificate(
    { ...validity, subject: 'CPN.51', publicKey: regionalKeys.publicKey, serial: '02' },
    { certificate: root, privateKey: rootKeys.privateKey },
  );
  const industry = await issueCertificate(
    { ...validity, subject: 'CPN.51.C151', publicKey: industryKeys.publicKey, serial: '03' },
    { certificate: regional, privateKey: regionalKeys.privateKey },
  );
  const providerId = identifier('CPN.51.C151', 'PV', '01JQ4ZK8M3XX');
  const provider = await issueCertificate(
    { ...validity, subject: providerId, publicKey: providerKeys.publicKey, serial: '04' },
    { certificate: industry, privateKey: industryKeys.privateKey },
  );
  return {
    clock: createFakeClock(T0),
    validity,
    rootKeys,
    regionalKeys,
    industryKeys,
    providerKeys,
    root,
    regional,
    industry,
    provider,
    providerId,
  };
}

/** A valid 统一社会信用代码 from a 17-character body (e.g. '91510100MA6C' padded). */
export function creditCode(body17: string): string {
  return body17 + creditCodeCheck(body17);
}
