import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Mod1271_36 } from '@konfirm/iso7064';
import {
  CANONICAL_ALPHABET,
  CROCKFORD_ALPHABET,
  canonicalise,
  checkCharacters,
  formatIdentifier,
  parseIdentifier,
  parsePrefix,
  PROVINCES,
  type Kind,
} from './index.ts';
import { deferredRejection } from './identifier.ts';

const FC = { seed: 20261126, numRuns: 1000 } as const;

const examples = ['CPN.51.C151/CL-01JQ4ZK8M3XX1', 'CPN.51/ND-1EJ', 'CPN.44.C397/SV-7ZZZA3', 'CPN/ND-16Q'];

const prefixArb = fc.oneof(
  fc.constant('CPN'),
  fc.constantFrom(...PROVINCES.map((p) => `CPN.${p.code}`)),
  fc
    .constantFrom('C151', 'C397', 'C276', 'C341', 'I651', 'A011', 'T971', 'K701')
    .chain((ind) => fc.constantFrom(...PROVINCES.map((p) => `CPN.${p.code}.${ind}`))),
);
const kindArb = fc.constantFrom<Kind>('ND', 'PV', 'CL', 'RP', 'SV', 'JB');
const serialArb = fc
  .array(fc.constantFrom(...CROCKFORD_ALPHABET), { minLength: 1, maxLength: 16 })
  .map((a) => a.join(''));
const validIdArb = fc.record({ prefix: prefixArb, kind: kindArb, serial: serialArb }).map((parts) => {
  const r = formatIdentifier(parts);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
});

describe('the examples of ARCHITECTURE.md', () => {
  it.each(examples)('%s is valid and canonical', (id) => {
    const r = parseIdentifier(id);
    expect(r.ok && r.value.id).toBe(id);
  });

  it('splits segments', () => {
    const r = parseIdentifier('CPN.51.C151/CL-01JQ4ZK8M3XX1');
    expect(r).toEqual({
      ok: true,
      value: {
        id: 'CPN.51.C151/CL-01JQ4ZK8M3XX1',
        prefix: 'CPN.51.C151',
        region: '51',
        industry: 'C151',
        kind: 'CL',
        serial: '01JQ4ZK8M3X',
        check: 'X1',
      },
    });
  });
});

describe('input rules', () => {
  it('trims ASCII spaces and tabs and upper-cases ASCII letters', () => {
    expect(canonicalise(' \tcpn.51/nd-1ej \t')).toEqual({ ok: true, value: 'CPN.51/ND-1EJ' });
  });

  it.each([
    ['ideographic space', 'CPN.51/ND-1EJ\u3000'],
    ['long s is not S', 'CPN.51/\u017fV-7ZZZA3'],
    ['no-break space', '\u00a0CPN.51/ND-1EJ'],
    ['newline', 'CPN.51/ND-1EJ\n'],
    ['fullwidth digit', 'CPN.５1/ND-1EJ'],
  ])('rejects %s as input', (_name, text) => {
    const r = parseIdentifier(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.segment).toBe('input');
  });

  it('does not alias O to 0', () => {
    const r = parseIdentifier('CPN.51/ND-O1EJ');
    expect(!r.ok && r.error.segment).toBe('serial');
  });

  it('treats serials as strings: 1 and 01 differ', () => {
    const a = formatIdentifier({ prefix: 'CPN.51', kind: 'ND', serial: '1' });
    const b = formatIdentifier({ prefix: 'CPN.51', kind: 'ND', serial: '01' });
    expect(a.ok && b.ok && a.value !== b.value).toBe(true);
  });
});

describe('rejections name the segment and what was expected', () => {
  it.each([
    ['', 'input'],
    ['CPN.51ND-1EJ', 'input'],
    ['CPX.51/ND-1EJ', 'prefix'],
    ['CPN-51/ND-1EJ', 'prefix'],
    ['CPN.5/ND-1EJ', 'region'],
    ['CPN.99/ND-1EJ', 'region'],
    ['CPN.51.C15/ND-1EJ', 'industry'],
    ['CPN.51.C150/ND-1EJ', 'industry'],
    ['CPN.51.A151/ND-1EJ', 'industry'],
    ['CPN.51.Z151/ND-1EJ', 'industry'],
    ['CPN.51.C981/ND-1EJ', 'industry'],
    ['CPN.51/XX-1EJ', 'kind'],
    ['CPN.51/ND1EJ', 'kind'],
    ['CPN.51/ND-EJ', 'serial'],
    ['CPN.51/ND-12345678901234567EJ', 'serial'],
    ['CPN.51/ND-1U00', 'serial'],
    ['CPN.51/ND-1EK', 'check'],
  ])('%j → %s', (text, segment) => {
    const r = parseIdentifier(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.segment).toBe(segment);
      expect(r.error.message.length).toBeGreaterThan(0);
      expect(r.error.expected.length).toBeGreaterThan(0);
    }
  });

  it('gives the expected check pair', () => {
    const r = parseIdentifier('CPN.51/ND-1EK');
    expect(!r.ok && r.error.expected).toContain('"EJ"');
  });

  it('explains, without throwing, a refusal the detailed scanner would not make (never expected: a defect report)', () => {
    const e = deferredRejection('CPN.51/ND-1EJ');
    expect(() => e.message).not.toThrow();
    expect(e.segment).toBe('input');
    expect(e.message).toContain('"CPN.51/ND-1EJ" was refused by the one-pass scanner');
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({
      segment: 'input',
      expected: expect.stringContaining('defect'),
    });
  });

  it('tells the section a division belongs to', () => {
    const r = parseIdentifier('CPN.51.A151/ND-1EJ');
    expect(!r.ok && r.error.expected).toBe('C151');
  });
});

describe('check characters', () => {
  it('agree with an independent ISO 7064 implementation', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...CANONICAL_ALPHABET), minLength: 1, maxLength: 40 }), (text) => {
        expect(checkCharacters(text)).toBe(Mod1271_36.checksum(text));
      }),
      FC,
    );
  });
});

describe('properties', () => {
  it('every single-character substitution of a valid identifier is rejected', () => {
    fc.assert(
      fc.property(validIdArb, fc.nat(), fc.constantFrom(...CANONICAL_ALPHABET), (id, at, ch) => {
        const i = at % id.length;
        fc.pre(id[i] !== ch);
        const changed = id.slice(0, i) + ch + id.slice(i + 1);
        expect(parseIdentifier(changed).ok).toBe(false);
      }),
      FC,
    );
  });

  it('exhaustively: every substitution of every position of the examples is rejected', () => {
    for (const id of examples) {
      for (let i = 0; i < id.length; i++) {
        for (const ch of CANONICAL_ALPHABET) {
          if (ch === id[i]) continue;
          expect(parseIdentifier(id.slice(0, i) + ch + id.slice(i + 1)).ok, `${id} @${i} → ${ch}`).toBe(false);
        }
      }
    }
  });

  it('every swap of two adjacent different characters is rejected', () => {
    fc.assert(
      fc.property(validIdArb, fc.nat(), (id, at) => {
        const i = at % (id.length - 1);
        fc.pre(id[i] !== id[i + 1]);
        const swapped = id.slice(0, i) + id[i + 1] + id[i] + id.slice(i + 2);
        expect(parseIdentifier(swapped).ok).toBe(false);
      }),
      FC,
    );
  });

  it('parse ∘ format is the identity', () => {
    fc.assert(
      fc.property(prefixArb, kindArb, serialArb, (prefix, kind, serial) => {
        const id = formatIdentifier({ prefix, kind, serial });
        expect(id.ok).toBe(true);
        if (!id.ok) return;
        const parsed = parseIdentifier(id.value);
        expect(
          parsed.ok && { prefix: parsed.value.prefix, kind: parsed.value.kind, serial: parsed.value.serial },
        ).toEqual({ prefix, kind, serial });
      }),
      FC,
    );
  });

  it('canonicalisation is idempotent, whatever the input', () => {
    const noisy = validIdArb.chain((id) =>
      fc
        .tuple(
          fc.constantFrom('', ' ', '\t', ' \t'),
          fc.array(fc.boolean(), { minLength: id.length, maxLength: id.length }),
          fc.constantFrom('', ' ', '\t'),
        )
        .map(([lead, lower, trail]) => lead + [...id].map((c, i) => (lower[i] ? c.toLowerCase() : c)).join('') + trail),
    );
    fc.assert(
      fc.property(fc.oneof(noisy, fc.string()), (text) => {
        const once = canonicalise(text);
        if (!once.ok) return;
        expect(canonicalise(once.value)).toEqual(once);
      }),
      FC,
    );
  });
});

describe('errors point at what the user typed', () => {
  it('a bad serial given to formatIdentifier is placed in the serial, not in the assembled identifier', () => {
    const r = formatIdentifier({ prefix: 'CPN.51', kind: 'ND', serial: 'OIL' });
    expect(!r.ok && [r.error.segment, r.error.message, r.error.position]).toEqual([
      'serial',
      'serial "OIL" has "O" at character 1 of the serial',
      0,
    ]);
    const long = formatIdentifier({ prefix: 'CPN.51', kind: 'ND', serial: '12345678901234567' });
    expect(!long.ok && long.error.message).toBe('serial "12345678901234567" has 17 characters');
  });

  it('a parsed identifier names the serial character by its place in the serial', () => {
    const r = parseIdentifier('CPN.51/ND-1O00');
    expect(!r.ok && [r.error.message, r.error.position]).toEqual([
      'serial "1O" has "O" at character 2 of the serial',
      11,
    ]);
  });

  it('a prefix with a fourth part is refused as too many prefix parts, not as a bad industry code', () => {
    for (const text of ['CPN.51.C151.X/ND-1EJ', 'CPN.51.C151.X']) {
      const r = text.includes('/') ? parseIdentifier(text) : parsePrefix(text);
      expect(!r.ok && [r.error.segment, r.error.message, r.error.position]).toEqual([
        'prefix',
        'prefix "CPN.51.C151.X" has 4 parts; a prefix has at most 3',
        11,
      ]);
    }
  });
});

describe('errors as values', () => {
  it('serialise with their message and expectation, also from the fast path', () => {
    for (const text of ['cpn.51/nd-1ek', 'CPN.98/ND-1EJ', 'CPN.51/QQ-1EJ']) {
      const r = parseIdentifier(text);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      const plain = JSON.parse(JSON.stringify(r.error)) as Record<string, unknown>;
      expect(plain).toMatchObject({ segment: r.error.segment, message: r.error.message, expected: r.error.expected });
      expect(typeof plain['message']).toBe('string');
    }
  });

  it('explains a wrong check pair in lower-case input with the canonical expected pair', () => {
    const r = parseIdentifier(' cpn.51/nd-1ek ');
    expect(!r.ok && [r.error.segment, r.error.expected, r.error.position]).toEqual([
      'check',
      '"EJ" (ISO/IEC 7064 MOD 1271-36)',
      11,
    ]);
  });
});
