import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { T0, testKeys } from '../testing/fixtures.ts';
import type { ProfileName } from '../crypto/profile.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { hasScope, issueApiToken, verifyApiToken } from './api-tokens.ts';

describe.each<ProfileName>(['ed25519', 'sm2'])('API tokens (%s)', (profile) => {
  const keys = testKeys(41, profile);
  const account = { id: 'u-reviewer-1', role: 'reviewer' as const, node: 'CPN.51', status: 'active' as const };

  it('issues short-lived tokens scoped by role', async () => {
    const clock = createFakeClock(T0);
    const token = await issueApiToken(account, { privateKey: keys.privateKey, clock });
    const r = await verifyApiToken(token, { publicKey: keys.publicKey, issuer: 'CPN.51', clock });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(hasScope(r.value, 'applications:review')).toBe(true);
      expect(hasScope(r.value, 'records:write')).toBe(false);
      expect(r.value.exp - r.value.iat).toBe(900);
    }
    clock.advance(931_000);
    expect((await verifyApiToken(token, { publicKey: keys.publicKey, issuer: 'CPN.51', clock })).ok).toBe(false);
  });

  it('refuses scopes beyond the role, inactive accounts and other issuers', async () => {
    const clock = createFakeClock(T0);
    await expect(
      issueApiToken(account, { privateKey: keys.privateKey, clock, scopes: ['records:write'] }),
    ).rejects.toThrow(/beyond/);
    await expect(
      issueApiToken({ ...account, status: 'suspended' }, { privateKey: keys.privateKey, clock }),
    ).rejects.toThrow(/suspended/);
    const token = await issueApiToken(account, { privateKey: keys.privateKey, clock, ttlSeconds: 99_999 });
    expect((await verifyApiToken(token, { publicKey: keys.publicKey, issuer: 'CPN.44', clock })).ok).toBe(false);
    expect(
      (
        await verifyApiToken(token, {
          publicKey: keys.publicKey,
          issuer: 'CPN.51',
          clock,
          accountStatus: () => 'revoked',
        })
      ).ok,
    ).toBe(false);
  });
});

describe('passwords', () => {
  it('hashes with scrypt and verifies in constant time', async () => {
    const h = await hashPassword('审核专家的密码 2026');
    expect(h).toMatch(/^scrypt\$32768\$8\$3\$/);
    expect(await verifyPassword('审核专家的密码 2026', h)).toBe(true);
    expect(await verifyPassword('审核专家的密码 2027', h)).toBe(false);
    expect(await verifyPassword('x', 'scrypt$2$1$1$AA$AA')).toBe(false);
    expect(h).not.toBe(await hashPassword('审核专家的密码 2026'));
  });
});
