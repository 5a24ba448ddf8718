import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CompactSign, compactVerify } from 'jose';
import { testKeys } from '../testing/fixtures.ts';
import { keyObject } from './ed25519.ts';
import { signCompact, verifyCompact } from './jws.ts';

// Issue 26: compact JWS is signed and verified with node:crypto (one synchronous Ed25519 call) instead of jose's
// WebCrypto path. jose stays the independent reference: the bytes must be the same, each must accept the other's.
const keys = testKeys(7);
const other = testKeys(8);

const header = fc.record(
  { typ: fc.constantFrom('cpn-answer+jwt', 'at+jwt', 'cpn-delegation+jws'), kid: fc.string({ maxLength: 40 }) },
  { requiredKeys: ['typ'] },
);
const payload = fc.uint8Array({ maxLength: 300 });

describe('compact JWS with node:crypto, against jose', () => {
  it('signs byte-equal to jose CompactSign; jose verifies ours and we verify jose', async () => {
    await fc.assert(
      fc.asyncProperty(payload, header, async (bytes, h) => {
        const ours = await signCompact(bytes, h, keys.privateKey);
        const theirs = await new CompactSign(bytes)
          .setProtectedHeader({ alg: 'EdDSA', ...h })
          .sign(keyObject(keys.privateKey));
        expect(ours).toBe(theirs);
        const checked = await compactVerify(ours, keyObject(keys.publicKey), { algorithms: ['EdDSA'] });
        expect(Buffer.from(checked.payload).equals(Buffer.from(bytes))).toBe(true);
        const verified = await verifyCompact(theirs, keys.publicKey, h.typ);
        expect(verified.ok && Buffer.from(verified.value.payload).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses any changed character, another key, and a jose-valid token with a header beyond alg/typ/kid', async () => {
    await fc.assert(
      fc.asyncProperty(payload, header, fc.tuple(fc.nat(), fc.nat(63)), async (bytes, h, [at, to]) => {
        const token = await signCompact(bytes, h, keys.privateKey);
        const i = at % token.length;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
        const c = alphabet[to % alphabet.length]!;
        fc.pre(token[i] !== c);
        const changed = token.slice(0, i) + c + token.slice(i + 1);
        expect((await verifyCompact(changed, keys.publicKey, h.typ)).ok).toBe(false);
        expect((await verifyCompact(token, other.publicKey, h.typ)).ok).toBe(false);
      }),
      { numRuns: 100 },
    );
    const crit = await new CompactSign(new Uint8Array([1]))
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', b64: true, crit: ['b64'] })
      .sign(keyObject(keys.privateKey));
    const refused = await verifyCompact(crit, keys.publicKey, 'at+jwt');
    expect(refused.ok ? null : refused.error).toBe('JWS header "b64" is not allowed');
  });
});
