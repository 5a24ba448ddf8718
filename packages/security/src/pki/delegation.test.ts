import { describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, compactVerify } from 'jose';
import { createFakeClock } from '@cpnet/kernel';
import { T0, testKeys } from '../testing/fixtures.ts';
import type { ProfileName } from '../crypto/profile.ts';
import { cryptoProfile } from '../crypto/profiles.ts';
import { jwkThumbprint } from '../crypto/thumbprint.ts';
import { keyObject } from '../crypto/ed25519.ts';
import { signDelegation, verifyDelegation } from './delegation.ts';
import { decryptPrivateKey, encryptPrivateKey, resolvePassphrase } from './key-at-rest.ts';

const S = Math.floor(T0 / 1000);

describe.each<ProfileName>(['ed25519', 'sm2'])('prefix delegations (%s)', (profile) => {
  const parent = testKeys(31, profile),
    child = testKeys(32, profile);
  const claims = { iss: 'CPN.51', prefix: 'CPN.51.C151', serial: 'D-0001', nbf: S - 60, exp: S + 86_400 };
  const opts = { parentPublicKey: parent.publicKey, childPublicKey: child.publicKey, clock: createFakeClock(T0) };

  it('verifies and binds the prefix to the child key', async () => {
    const token = await signDelegation(claims, { parentKey: parent.privateKey, childPublicKey: child.publicKey });
    const r = await verifyDelegation(token, { ...opts, configuredCode: 'CPN.51.C151' });
    expect(r).toMatchObject({ ok: true, value: { prefix: 'CPN.51.C151', sub_jkt: jwkThumbprint(child.publicKey) } });
  });

  it('tells a node to refuse to start when its configured code differs', async () => {
    const token = await signDelegation(claims, { parentKey: parent.privateKey, childPublicKey: child.publicKey });
    const r = await verifyDelegation(token, { ...opts, configuredCode: 'CPN.51.C397' });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'CODE_MISMATCH', reason: expect.stringContaining('refusing to start') },
    });
  });

  it('refuses a delegation by someone other than the parent, or outside its validity', async () => {
    const wrongIssuer = await signDelegation(
      { ...claims, iss: 'CPN' },
      { parentKey: parent.privateKey, childPublicKey: child.publicKey },
    );
    expect(await verifyDelegation(wrongIssuer, opts)).toMatchObject({ ok: false, error: { code: 'WRONG_ISSUER' } });
    const expired = await signDelegation(
      { ...claims, nbf: S - 1000, exp: S - 100 },
      { parentKey: parent.privateKey, childPublicKey: child.publicKey },
    );
    expect(await verifyDelegation(expired, opts)).toMatchObject({ ok: false, error: { code: 'EXPIRED' } });
    const other = await signDelegation(claims, {
      parentKey: parent.privateKey,
      childPublicKey: testKeys(99, profile).publicKey,
    });
    expect(await verifyDelegation(other, opts)).toMatchObject({ ok: false, error: { code: 'WRONG_KEY' } });
    const token = await signDelegation(claims, { parentKey: parent.privateKey, childPublicKey: child.publicKey });
    expect(
      await verifyDelegation(token, {
        ...opts,
        isRevoked: (s) => (s === 'D-0001' ? 'node revoked by ministry' : null),
      }),
    ).toMatchObject({ ok: false, error: { code: 'REVOKED' } });
  });

  it('keeps private keys encrypted at rest', () => {
    const pem = encryptPrivateKey(child.privateKey, 'correct horse battery staple');
    expect(pem).toMatch(/ENCRYPTED/);
    const back = decryptPrivateKey(pem, 'correct horse battery staple');
    expect(back.ok && cryptoProfile(profile).exportPrivateKey(back.value)).toBe(
      cryptoProfile(profile).exportPrivateKey(child.privateKey),
    );
    expect(decryptPrivateKey(pem, 'wrong horse battery staple').ok).toBe(false);
  });
});

describe('interop with jose', () => {
  it('Ed25519 delegations are standard EdDSA JWS and sub_jkt is the RFC 7638 thumbprint', async () => {
    const parent = testKeys(31),
      child = testKeys(32);
    const token = await signDelegation(
      { iss: 'CPN', prefix: 'CPN.51', serial: '1', nbf: S, exp: S + 10 },
      { parentKey: parent.privateKey, childPublicKey: child.publicKey },
    );
    const v = await compactVerify(token, keyObject(parent.publicKey));
    expect(v.protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'cpn-delegation+jwt', kid: 'CPN' });
    expect(jwkThumbprint(child.publicKey)).toBe(
      await calculateJwkThumbprint(cryptoProfile('ed25519').publicJwk(child.publicKey)),
    );
  });
});

describe('passphrase resolution', () => {
  it('prefers the environment, then the file, then a generated development passphrase with a warning', () => {
    expect(
      resolvePassphrase({ env: { CPNET_KEY_PASSPHRASE: 'from-the-environment' }, passphraseFile: 'from-a-file-xxxx' }),
    ).toMatchObject({ ok: true, value: { source: 'env' } });
    expect(resolvePassphrase({ env: {}, passphraseFile: 'from-a-file-xxxx\n' })).toMatchObject({
      ok: true,
      value: { source: 'file', passphrase: 'from-a-file-xxxx' },
    });
    const gen = resolvePassphrase({ env: {}, generate: () => 'generated-passphrase-1234' });
    expect(gen).toMatchObject({
      ok: true,
      value: { source: 'generated', persist: { mode: 0o600 }, warning: expect.stringContaining('development') },
    });
    expect(resolvePassphrase({ env: {}, devFile: 'generated-passphrase-1234\n' })).toMatchObject({
      ok: true,
      value: { source: 'generated-file', passphrase: 'generated-passphrase-1234' },
    });
    expect(resolvePassphrase({ env: { CPNET_KEY_PASSPHRASE: 'short' } }).ok).toBe(false);
  });
});
