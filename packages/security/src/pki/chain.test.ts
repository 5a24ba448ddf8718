import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { buildPki, DAY, identifier, T0, testKeys, YEAR } from '../testing/fixtures.ts';
import { issueCertificate } from './certificates.ts';
import { verifyChain } from './chain.ts';
import { createRevocationList } from './revocation.ts';
import { renewCertificate, recordRotation } from './rotation.ts';
import { createKeyRing } from './key-ring.ts';
import { samePublicKey } from '../crypto/profiles.ts';

describe('certificate chains', async () => {
  const pki = await buildPki();
  const opts = { root: pki.root, clock: pki.clock };

  it('verifies a provider leaf through industry and regional CAs to the root', async () => {
    const r = await verifyChain([pki.provider, pki.industry, pki.regional], opts);
    expect(r.ok && r.value).toMatchObject({ name: pki.providerId, kind: 'leaf', prefix: 'CPN.51.C151' });
    if (r.ok) expect(samePublicKey(r.value.publicKey, pki.providerKeys.publicKey)).toBe(true);
  });

  it('verifies node CAs at each level, with or without the root in the chain', async () => {
    expect((await verifyChain([pki.industry, pki.regional], opts)).ok).toBe(true);
    expect((await verifyChain([pki.regional, pki.root], opts)).ok).toBe(true);
    expect((await verifyChain([pki.regional], opts)).ok).toBe(true);
  });

  it('checks the time and each issuer at every call, though parsed certificates and signatures are remembered', async () => {
    const chain = [pki.provider, pki.industry, pki.regional];
    expect((await verifyChain(chain, opts)).ok).toBe(true);
    // The same chain two years on: expired — validity is checked at every call, not remembered.
    const later = await verifyChain(chain, { ...opts, clock: createFakeClock(T0 + 2 * YEAR) });
    expect(later.ok).toBe(false);
    if (!later.ok) expect(later.error.reason).toMatch(/expired/);
    // The same leaf above an impostor industry CA (same name, issued by the same regional CA, another key): its
    // signature is checked against this issuer, not taken from the verification above.
    const impostorKeys = testKeys(77);
    const impostor = await issueCertificate(
      { ...pki.validity, subject: 'CPN.51.C151', publicKey: impostorKeys.publicKey, serial: '13' },
      { certificate: pki.regional, privateKey: pki.regionalKeys.privateKey },
    );
    const r = await verifyChain([pki.provider, impostor, pki.regional], opts);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ index: 0, reason: expect.stringContaining('does not verify') });
    expect((await verifyChain(chain, opts)).ok).toBe(true);
  });

  it('refuses revoked certificates with the reason', async () => {
    const revocations = createRevocationList();
    revocations.revoke({ serial: '03', reason: 'key compromise', revokedAt: T0 - 1000 });
    const r = await verifyChain([pki.provider, pki.industry, pki.regional], { ...opts, revocations });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ index: 1, reason: expect.stringContaining('key compromise') });
  });

  it('renews with an overlap in which old and new keys are accepted', async () => {
    const newKeys = testKeys(33);
    const renewal = await renewCertificate(pki.industry, {
      issuer: { certificate: pki.regional, privateKey: pki.regionalKeys.privateKey },
      newPublicKey: newKeys.publicKey,
      clock: pki.clock,
      lifetimeMs: YEAR,
      overlapMs: DAY,
    });
    const fresh = await verifyChain([renewal.certificate, pki.regional], opts);
    expect(fresh.ok && samePublicKey(fresh.value.publicKey, newKeys.publicKey)).toBe(true);
    const ring = createKeyRing();
    ring.add('CPN.51.C151', { publicKey: pki.industryKeys.publicKey, notBefore: T0 - DAY, notAfter: T0 + YEAR });
    recordRotation(ring, {
      keyid: 'CPN.51.C151',
      oldKey: pki.industryKeys.publicKey,
      newKey: newKeys.publicKey,
      from: T0,
      until: T0 + YEAR,
      oldUntil: renewal.oldAcceptedUntil,
    });
    expect(ring.keysFor('CPN.51.C151', T0 + 1000)).toHaveLength(2);
    expect(ring.keysFor('CPN.51.C151', T0 + 2 * DAY)).toHaveLength(1);
    expect(samePublicKey(ring.keysFor('CPN.51.C151', T0 + 2 * DAY)[0]!, newKeys.publicKey)).toBe(true);
  });

  it('issues gateway (SV) leaves under a regional node too', async () => {
    const id = identifier('CPN.51', 'SV', '7ZZZA3');
    const gw = await issueCertificate(
      { ...pki.validity, subject: id, publicKey: testKeys(9).publicKey },
      { certificate: pki.regional, privateKey: pki.regionalKeys.privateKey },
    );
    expect((await verifyChain([gw, pki.regional], { root: pki.root, clock: createFakeClock(T0) })).ok).toBe(true);
  });
});
