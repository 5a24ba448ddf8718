import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CREDIT_CODE_ALPHABET, creditCodeCheck, parseCreditCode } from './index.ts';

describe('统一社会信用代码 (GB 32100)', () => {
  it('accepts a real code', () => {
    expect(parseCreditCode('914403001922038216').ok).toBe(true);
  });

  it('marks 12… codes as public institutions', () => {
    const body = '12510000MB0000000';
    const r = parseCreditCode(body + creditCodeCheck(body));
    expect(r.ok && r.value.publicInstitution).toBe(true);
  });

  it.each([
    ['91440300192203821', '18 characters'],
    ['91440300192203821I', 'without I O Z S V'],
    ['9144030019220382106', '18 characters'],
    ['91A40300192203821X', 'division'],
    ['914403001922038217', '"6"'],
  ])('rejects %s', (code, expected) => {
    const r = parseCreditCode(code);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.expected).toContain(expected);
  });

  it('detects every single substitution', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...CREDIT_CODE_ALPHABET), minLength: 17, maxLength: 17 }),
        fc.nat(17),
        fc.constantFrom(...CREDIT_CODE_ALPHABET),
        (rest, at, ch) => {
          const body = '91' + '510100' + rest.slice(8);
          const code = body + creditCodeCheck(body);
          fc.pre(code[at] !== ch);
          expect(parseCreditCode(code.slice(0, at) + ch + code.slice(at + 1)).ok).toBe(false);
        },
      ),
      { seed: 11, numRuns: 1000 },
    );
  });
});
