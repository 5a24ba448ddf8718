// The one-pass scanner (`fastParse`, the path `parseIdentifier` takes first) against the detailed scanner
// (`parseIdentifierDetailed`, segment by segment): on valid, mutated, lower-cased, padded and arbitrary text they
// must agree on validity and on every segment, and where the scanner explains a rejection itself (a wrong check pair,
// a region that is not a province) it must give the detailed scanner's explanation.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fastParse } from './fast-parse.ts';
import { formatIdentifier, parseIdentifierDetailed } from './identifier.ts';
import { CANONICAL_ALPHABET, CROCKFORD_ALPHABET } from './alphabet.ts';
import { SECTIONS } from './industries.ts';
import { PROVINCES } from './provinces.ts';
import type { Kind } from './kinds.ts';

const FC = { seed: 20261205, numRuns: 3000 } as const;

const industryArb = fc
  .constantFrom(...SECTIONS)
  .chain((s) =>
    fc
      .tuple(fc.integer({ min: s.from, max: s.to }), fc.integer({ min: 1, max: 9 }))
      .map(([d, g]) => `${s.letter}${String(d).padStart(2, '0')}${g}`),
  );
const prefixArb = fc.oneof(
  fc.constant('CPN'),
  fc.constantFrom(...PROVINCES.map((p) => `CPN.${p.code}`)),
  fc.tuple(fc.constantFrom(...PROVINCES.map((p) => p.code)), industryArb).map(([r, i]) => `CPN.${r}.${i}`),
);
const validIdArb = fc
  .record({
    prefix: prefixArb,
    kind: fc.constantFrom<Kind>('ND', 'PV', 'CL', 'RP', 'SV', 'JB'),
    serial: fc.array(fc.constantFrom(...CROCKFORD_ALPHABET), { minLength: 1, maxLength: 16 }).map((a) => a.join('')),
  })
  .map((parts) => {
    const r = formatIdentifier(parts);
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  });
/** A valid identifier, or one whose region is not a province (its check pair then wrong as well). */
const nearIdArb = fc.oneof(
  validIdArb,
  fc.tuple(validIdArb, fc.constantFrom('00', '19', '66', '99')).map(([id, r]) => id.replace(/^CPN\.\d\d/, `CPN.${r}`)),
);
/** A valid identifier, then maybe: a character replaced, one dropped or doubled, letters lower-cased, blanks around. */
const noisyArb = fc
  .tuple(
    nearIdArb,
    fc.nat(),
    fc.constantFrom(...`${CANONICAL_ALPHABET}abcxyz./- \tIiLlOoUu\u00e9\u4e2d`),
    fc.constantFrom('none', 'replace', 'drop', 'double', 'lower'),
    fc.constantFrom('', ' ', '\t '),
    fc.constantFrom('', ' ', '\t'),
  )
  .map(([id, at, ch, how, lead, trail]) => {
    const i = at % id.length;
    const body =
      how === 'replace'
        ? id.slice(0, i) + ch + id.slice(i + 1)
        : how === 'drop'
          ? id.slice(0, i) + id.slice(i + 1)
          : how === 'double'
            ? id.slice(0, i) + id[i] + id.slice(i)
            : how === 'lower'
              ? id.slice(0, i) + id.slice(i).toLowerCase()
              : id;
    return lead + body + trail;
  });

const plain = (e: object) => JSON.parse(JSON.stringify(e)) as unknown;

describe('fastParse agrees with the detailed scanner', () => {
  it('on valid, noisy and arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(validIdArb, noisyArb, noisyArb, fc.string({ maxLength: 40 })), (text) => {
        const fast = fastParse(text);
        const detailed = parseIdentifierDetailed(text);
        if (fast === null) {
          // The scanner declines only what the detailed scanner refuses.
          expect(detailed.ok).toBe(false);
        } else if ('id' in fast) {
          expect(detailed.ok && { ...detailed.value }).toEqual({ ...fast });
        } else {
          expect(detailed.ok).toBe(false);
          if (!detailed.ok) expect(plain(fast)).toEqual(plain(detailed.error));
        }
      }),
      FC,
    );
  });

  it('shares the canonical texts of repeated segments and still returns them equal', () => {
    const a = fastParse('cpn.51.c151/cl-01jq4zk8m3xx1');
    const b = fastParse('CPN.51.C151/CL-01JQ4ZK8M3XX1');
    expect(a !== null && 'id' in a && b !== null && 'id' in b && [a.prefix, a.industry, a.check]).toEqual([
      'CPN.51.C151',
      'C151',
      'X1',
    ]);
    expect({ ...a }).toEqual({ ...b });
  });
});
