// The signer writes Signature, Signature-Input and Content-Digest without re-serialising through structured-headers
// (issue 26: a signed request's cost). These must be byte for byte what `serializeDictionary` writes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { serializeDictionary, serializeInnerList } from 'structured-headers';
import { byteSequenceMember, signatureInputList } from './signature-base.ts';

const FC = { seed: 20261205, numRuns: 500 } as const;

describe('hand-written structured field members', () => {
  it('a byte-sequence member equals serializeDictionary of it', () => {
    fc.assert(
      fc.property(fc.constantFrom('cpn', 'sha-256', 'sm3'), fc.uint8Array({ maxLength: 96 }), (key, bytes) => {
        expect(byteSequenceMember(key, bytes)).toBe(serializeDictionary(new Map([[key, [bytes, new Map()]]])));
        // A view into a larger buffer serialises only its own bytes.
        const big = new Uint8Array(bytes.length + 8);
        big.set(bytes, 4);
        expect(byteSequenceMember(key, big.subarray(4, 4 + bytes.length))).toBe(byteSequenceMember(key, bytes));
      }),
      FC,
    );
  });

  it('label "=" inner list equals serializeDictionary of the Signature-Input member', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/),
        fc.stringMatching(/^[ -~]{1,60}$/),
        (created, nonce, keyid) => {
          const list = signatureInputList(['@method', '@target-uri', 'content-type', 'content-digest'], {
            created,
            expires: created + 60,
            nonce,
            keyid,
            alg: 'ed25519',
            tag: 'cpn',
          });
          expect(`cpn=${serializeInnerList(list)}`).toBe(serializeDictionary(new Map([['cpn', list]])));
        },
      ),
      FC,
    );
  });
});
