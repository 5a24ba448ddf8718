import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CANONICAL_ALPHABET,
  CROCKFORD_ALPHABET,
  GROUP_NAMES,
  IDENTIFIER_PATTERN,
  INDUSTRY_PATTERN,
  KIND_CODES,
  PREFIX_PATTERN,
  PROVINCES,
  checkValue,
  formatIdentifier,
  parseIdentifier,
  parsePrefix,
} from './index.ts';

const ID = new RegExp(IDENTIFIER_PATTERN);
const PREFIX = new RegExp(PREFIX_PATTERN);
const INDUSTRY = new RegExp(INDUSTRY_PATTERN);

/**
 * What the identifier pattern should say of `s`: true exactly when `s` is a canonical identifier apart from its
 * check pair — the parser accepts it unchanged, or refuses only its check characters, which are two of 0-9 A-Z and
 * would be accepted unchanged once replaced by the right pair.
 */
function canonicalShape(s: string): boolean {
  const r = parseIdentifier(s);
  if (r.ok) return r.value.id === s;
  if (r.error.segment !== 'check' || !/^[0-9A-Z]{2}$/.test(s.slice(-2))) return false;
  const body = s.slice(0, -2);
  const c = checkValue(body);
  if (c < 0) return false;
  const fixed = body + CANONICAL_ALPHABET[Math.floor(c / 36)]! + CANONICAL_ALPHABET[c % 36]!;
  const f = parseIdentifier(fixed);
  return f.ok && f.value.id === fixed;
}

const industries = Object.keys(GROUP_NAMES).filter((c) => !c.endsWith('0'));
const prefixArb = fc.oneof(
  fc.constant('CPN'),
  fc.constantFrom(...PROVINCES.map((p) => `CPN.${p.code}`)),
  fc.tuple(fc.constantFrom(...PROVINCES), fc.constantFrom(...industries)).map(([p, i]) => `CPN.${p.code}.${i}`),
  // Well-formed 中类 that the standard does not have are valid too.
  fc.constantFrom('CPN.51.C159', 'CPN.44.I659', 'CPN.11.T979'),
);
const crockford = fc.constantFrom(...CROCKFORD_ALPHABET);
const serialArb = fc.oneof(
  fc.string({ unit: crockford, minLength: 1, maxLength: 16 }),
  fc.string({ unit: crockford, minLength: 15, maxLength: 16 }),
);
const validArb = fc
  .record({ prefix: prefixArb, kind: fc.constantFrom(...KIND_CODES), serial: serialArb })
  .map((parts) => {
    const r = formatIdentifier(parts);
    if (!r.ok) throw new Error(`${JSON.stringify(parts)}: ${r.error.message}`);
    return r.value;
  });

/** A valid identifier with one edit: a character replaced, inserted, removed, lower-cased, or blanks around it. */
const nearArb = fc
  .tuple(validArb, fc.nat(), fc.constantFrom(...'0123456789ABCILOUZacz./-_ \t'), fc.nat(4))
  .map(([id, at, ch, op]) => {
    const i = at % (id.length + 1);
    switch (op) {
      case 0:
        return id.slice(0, i) + ch + id.slice(i + 1);
      case 1:
        return id.slice(0, i) + ch + id.slice(i);
      case 2:
        return id.slice(0, i) + id.slice(i + 1);
      case 3:
        return id.toLowerCase();
      default:
        return ` ${id}\t`;
    }
  });

/** Strings over the identifier's own characters, shaped loosely like one. */
const looseArb = fc.oneof(
  fc.stringMatching(/^CPN(\.\d{1,3}(\.[A-Z]\d{2,4})?)?\/[A-Z]{2}-[0-9A-Z]{0,20}$/),
  // Serials of every length around the limits, from the right alphabet.
  fc.stringMatching(/^CPN(\.51(\.C15[019])?)?\/(ND|CL|NX)-[0-9A-HJKMNP-TV-Z]{0,19}[0-9A-Z]{2}$/),
);

describe('IDENTIFIER_PATTERN and parseIdentifier agree on canonical forms', () => {
  it('matches the examples of ARCHITECTURE.md', () => {
    for (const id of ['CPN.51.C151/CL-01JQ4ZK8M3XX1', 'CPN.51/ND-1EJ', 'CPN.44.C397/SV-7ZZZA3', 'CPN/ND-16Q'])
      expect(ID.test(id), id).toBe(true);
    for (const id of ['cpn/ND-16Q', ' CPN/ND-16Q', 'CPN.51.A151/ND-1EJ', 'CPN.99/ND-1EJ', 'CPN/ND-I6Q', 'CPN/XX-16Q'])
      expect(ID.test(id), id).toBe(false);
  });

  it('matches every valid identifier, and its canonical form is what the parser returns', () => {
    fc.assert(
      fc.property(validArb, (id) => {
        const r = parseIdentifier(id);
        expect(r.ok && r.value.id).toBe(id);
        expect(ID.test(id)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('says of any string what the parser says of its shape', () => {
    const anyString = fc.oneof(
      { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 1 },
      { arbitrary: fc.string({ unit: fc.constantFrom(...'CPN.51/ND-C151XYZ0189 '), maxLength: 30 }), weight: 2 },
      { arbitrary: looseArb, weight: 3 },
      { arbitrary: fc.stringMatching(ID), weight: 3 },
      { arbitrary: nearArb, weight: 4 },
      { arbitrary: validArb, weight: 2 },
    );
    fc.assert(
      fc.property(anyString, (s) => {
        expect(ID.test(s)).toBe(canonicalShape(s));
        const r = parseIdentifier(s);
        if (r.ok) expect(ID.test(r.value.id)).toBe(true);
      }),
      { numRuns: 20000 },
    );
  });
});

describe('PREFIX_PATTERN and INDUSTRY_PATTERN', () => {
  it('accept exactly the canonical prefixes the parser accepts', () => {
    const prefixLike = fc.oneof(
      prefixArb,
      fc.stringMatching(/^CPN(\.\d{1,3}(\.[A-Za-z]\d{2,4})?)?$/),
      fc.string({ unit: fc.constantFrom(...'CPNcpn.0125789ACIST '), maxLength: 14 }),
      fc.string({ unit: 'binary', maxLength: 14 }),
    );
    fc.assert(
      fc.property(prefixLike, (s) => {
        const r = parsePrefix(s);
        expect(PREFIX.test(s)).toBe(r.ok && r.value.prefix === s);
      }),
      { numRuns: 20000 },
    );
  });

  it('accept every region 00–99 and industry A000–Z999 the parser accepts, and no other', () => {
    for (let n = 0; n < 100; n++) {
      const region = String(n).padStart(2, '0');
      expect(PREFIX.test(`CPN.${region}`), region).toBe(parsePrefix(`CPN.${region}`).ok);
    }
    for (const letter of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') {
      for (let n = 0; n < 1000; n++) {
        const code = letter + String(n).padStart(3, '0');
        const ok = parsePrefix(`CPN.51.${code}`).ok;
        if (INDUSTRY.test(code) !== ok || PREFIX.test(`CPN.51.${code}`) !== ok) expect.fail(`${code}: parser ${ok}`);
      }
    }
  });
});
