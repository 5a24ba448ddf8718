import { describe, expect, it } from 'vitest';
import { buildPki, T0 } from '../testing/fixtures.ts';
import { certificateValidity, renewalDue } from './validity.ts';

describe('certificate validity and renewal', async () => {
  const pki = await buildPki();

  it('reads the validity period of a certificate', () => {
    const v = certificateValidity(pki.regional);
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.value.notAfter).toBeGreaterThan(v.value.notBefore);
    expect(certificateValidity('not a certificate')).toEqual({ ok: false, error: 'not a parseable X.509 certificate' });
  });

  it('is due once two thirds of a life have passed, for its own or an issuer certificate, or when unreadable', () => {
    const v = certificateValidity(pki.industry);
    if (!v.ok) throw new Error(v.error);
    const { notBefore, notAfter } = v.value;
    const due = notBefore + ((notAfter - notBefore) * 2) / 3;
    expect(renewalDue([pki.industry, pki.regional], due - 1000)).toBe(false);
    expect(renewalDue([pki.industry, pki.regional], Math.ceil(due))).toBe(true);
    expect(renewalDue([pki.industry, 'garbage'], T0)).toBe(true);
  });
});
