import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './jcs.ts';

const RUNS = { numRuns: 300, seed: 17 };

/** `depth` nested arrays and objects around a number, built without recursion. */
function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

describe('canonicalJson (RFC 8785 without recursion)', () => {
  it('writes what the recursive canonicalize package writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      RUNS,
    );
    // (A function property differs on purpose: the package writes `"f":undefined`, JSON and this omit it.)
    const odd = { d: new Date(0), u: undefined, a: [undefined, 1e21, -0, 'é\u2028'], s: Symbol('x') };
    expect(canonicalJson(odd)).toBe(canonicalize(odd));
    expect(canonicalJson(undefined)).toBeUndefined();
  });

  it('canonicalises values nested 100,000 levels deep without overflowing the stack', () => {
    const text = canonicalJson(nested(100_000));
    expect(text?.length).toBe(50_000 * '{"a":}'.length + 50_000 * '[]'.length + 1);
    expect(() => canonicalize(nested(100_000))).toThrow(RangeError);
  });

  it('refuses what JSON cannot hold: circles, NaN, Infinity, lone surrogates', () => {
    const circle: Record<string, unknown> = {};
    circle.self = { back: circle };
    expect(() => canonicalJson(circle)).toThrow('Circular');
    expect(() => canonicalJson([NaN])).toThrow('NaN');
    expect(() => canonicalJson({ x: Infinity })).toThrow('Infinity');
    expect(() => canonicalJson('\ud800')).toThrow('surrogate');
    const shared = { a: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"a":1},{"a":1}]');
  });
});
