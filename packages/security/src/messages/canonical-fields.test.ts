// The fast paths of canonical-fields.ts against structured-headers: whatever they write is what the library writes,
// and whatever they read, the library reads the same way (anything else they leave to the library).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseDictionary, serializeDictionary, serializeInnerList, type InnerList } from 'structured-headers';
import { parseCanonicalByteMember, parseCanonicalInput, signatureParamsText } from './canonical-fields.ts';
import { signatureInputList } from './signature-base.ts';

const FC = { seed: 20261205, numRuns: 400 } as const;
const COMPONENTS = ['@method', '@target-uri', 'content-type', 'content-digest', 'cpn-protocol', 'idempotency-key'];

// Strings mostly plain, sometimes with a quote, a backslash or a character outside printable ASCII.
const str = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.:/-]{0,40}$/),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('a"b', 'a\\b', 'é', ''),
);
const params = fc.record({
  created: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom(0, 999_999_999_999_999)),
  expires: fc.integer({ min: 0, max: 2 ** 40 }),
  nonce: str,
  keyid: str,
  alg: fc.constantFrom('ed25519', 'sm2-sm3', 'x"y'),
  tag: fc.constantFrom('cpn', 'other'),
});
const components = fc.subarray(COMPONENTS).chain((c) => fc.shuffledSubarray(c, { minLength: c.length }));

function libraryRead(header: string): { components: string[]; params: Map<string, unknown>; text: string } | null {
  let dict;
  try {
    dict = parseDictionary(header);
  } catch {
    return null;
  }
  const m = dict.get('cpn');
  if (!m || !Array.isArray(m[0])) return null;
  const list = m as InnerList;
  return {
    components: list[0].map(([n]) => String(n)),
    params: list[1] as Map<string, unknown>,
    text: serializeInnerList(list),
  };
}

describe('canonical structured fields', () => {
  it('signatureParamsText is the library serialisation, or null when a value needs escaping', () => {
    fc.assert(
      fc.property(components, params, (c, p) => {
        const fast = signatureParamsText(c, p);
        let lib: string | null;
        try {
          lib = serializeInnerList(signatureInputList(c, p));
        } catch {
          lib = null;
        }
        if (fast !== null) expect(fast).toBe(lib);
        else expect([p.nonce, p.keyid, p.alg].some((s) => !/^[\x20\x21\x23-\x5B\x5D-\x7E]*$/.test(s))).toBe(true);
      }),
      FC,
    );
  });

  it('a Signature-Input the library wrote is read by the fast path exactly as the library reads it', () => {
    fc.assert(
      fc.property(components, params, (c, p) => {
        let header: string;
        try {
          header = serializeDictionary(new Map([['cpn', signatureInputList(c, p)]]));
        } catch {
          return;
        }
        const fast = parseCanonicalInput(header, 'cpn');
        const lib = libraryRead(header)!;
        if (fast === null) return; // an escaped string: left to the library
        expect(fast.components).toEqual(lib.components);
        expect([...fast.params]).toEqual([...lib.params]);
        expect(fast.text).toBe(lib.text);
      }),
      FC,
    );
  });

  it('whatever the fast path reads, the library reads the same way (mutated headers)', () => {
    const base = serializeDictionary(
      new Map([
        [
          'cpn',
          signatureInputList(['@method', '@target-uri'], {
            created: 1764900000,
            expires: 1764900060,
            nonce: 'AbCdEfGh12',
            keyid: 'CPN.51',
            alg: 'ed25519',
            tag: 'cpn',
          }),
        ],
      ]),
    );
    const mutated = fc
      .tuple(
        fc.nat({ max: base.length }),
        fc.nat({ max: 3 }),
        fc.constantFrom(' ', '"', '\\', ';', '0', '(', ')', ',', 'x', '='),
      )
      .map(([at, cut, ch]) => base.slice(0, at) + ch + base.slice(at + cut));
    fc.assert(
      fc.property(mutated, (header) => {
        const fast = parseCanonicalInput(header, 'cpn');
        if (fast === null) return;
        const lib = libraryRead(header);
        expect(lib).not.toBeNull();
        expect(fast.components).toEqual(lib!.components);
        expect([...fast.params]).toEqual([...lib!.params]);
        expect(fast.text).toBe(lib!.text);
        expect(`cpn=${fast.text}`).toBe(header); // canonical: it is its own serialisation
      }),
      { ...FC, numRuns: 2000 },
    );
  });

  it('a byte-sequence member is read as the library reads it; non-canonical forms are left to the library', () => {
    fc.assert(
      fc.property(fc.constantFrom('cpn', 'sha-256', 'sm3'), fc.uint8Array({ maxLength: 96 }), (key, bytes) => {
        const header = serializeDictionary(new Map([[key, [bytes, new Map()]]]));
        expect(parseCanonicalByteMember(header, key)).toEqual(bytes);
        expect(parseCanonicalByteMember(header, key === 'cpn' ? 'sm3' : 'cpn')).toBeNull();
      }),
      FC,
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (tail) => {
        const header = `cpn=:${tail}:`;
        const fast = parseCanonicalByteMember(header, 'cpn');
        if (fast === null) return;
        const lib = parseDictionary(header).get('cpn')!;
        expect(new Uint8Array(lib[0] as ArrayBuffer)).toEqual(fast);
      }),
      { ...FC, numRuns: 2000 },
    );
    for (const bad of ['cpn=:YQ=:', 'cpn=:YR==:', 'cpn=:YQ==:, x=1', 'cpn=:YQ==:;p=1', ' cpn=:YQ==:'])
      expect(parseCanonicalByteMember(bad, 'cpn')).toBeNull();
  });
});
