import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFakeClock } from '@cpnet/kernel';
import { T0, testKeys } from './testing/fixtures.ts';
import type { ProfileName } from './crypto/profile.ts';
import { cryptoProfile } from './crypto/profiles.ts';
import { jcs } from './crypto/encoding.ts';
import { signRequest } from './messages/sign-request.ts';
import { createVerifier } from './messages/verify-request.ts';
import { createMemoryNonceStore } from './messages/nonce-store.ts';
import { MerkleTree } from './audit/merkle-tree.ts';
import { leafHash } from './audit/hashes.ts';
import { verifyConsistency, verifyInclusion } from './audit/proofs.ts';
import { createAuditLog } from './audit/audit-log.ts';
import { verifyAuditEntries } from './audit/audit-verifier.ts';
import type { AuditEntry } from './audit/entry.ts';

const RUNS = { seed: 20260301, numRuns: 1000 };
const PATHS = fc.stringMatching(/^\/cpn\/v1\/[a-z0-9%./-]{0,40}$/);

describe.each<ProfileName>(['ed25519', 'sm2'])('properties (%s)', (profile) => {
  const keys = testKeys(51, profile);
  const crypto = cryptoProfile(profile);

  it('sign/verify round trip for any method, path and body', async () => {
    const clock = createFakeClock(T0);
    const verifier = createVerifier({
      resolveKey: () => keys.publicKey,
      nonceStore: createMemoryNonceStore({ clock }),
      clock,
      profile,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        PATHS,
        fc.uint8Array({ maxLength: 256 }),
        async (method, path, body) => {
          const req = {
            method,
            url: `https://n.example${path}`,
            headers: { 'content-type': 'application/json' },
            body,
          };
          const signedReq = {
            ...req,
            headers: { ...req.headers, ...signRequest(req, { keyid: 'CPN.51', privateKey: keys.privateKey, clock }) },
          };
          expect(await verifier.verify(signedReq)).toMatchObject({ ok: true, keyid: 'CPN.51' });
        },
      ),
      RUNS,
    );
  });

  it('any single-byte change of a signed message or its signature is refused', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (...args) => {
          const [msg, at, delta, inSignature] = args;
          const sig = crypto.sign(msg, keys.privateKey);
          const target = inSignature ? new Uint8Array(sig) : new Uint8Array(msg);
          const i = at % target.length;
          target[i] = (target[i]! + delta) % 256;
          expect(
            inSignature ? crypto.verify(msg, target, keys.publicKey) : crypto.verify(target, sig, keys.publicKey),
          ).toBe(false);
        },
      ),
      RUNS,
    );
  });

  it('audit proofs verify for any tree size, leaf and earlier size', () => {
    const tree = new MerkleTree(crypto.hash);
    const leaves = Array.from({ length: 600 }, (_, i) => leafHash(crypto.hash, new Uint8Array([i & 255, i >> 8])));
    leaves.forEach((l) => tree.appendLeafHash(l));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.nat(), fc.nat(), (n, a, b) => {
        const m = a % n,
          first = (b % n) + 1;
        const root = tree.root(n);
        expect(
          verifyInclusion(crypto.hash, {
            index: m,
            treeSize: n,
            leafHash: leaves[m]!,
            proof: tree.inclusionProof(m, n),
            root,
          }),
        ).toBe(true);
        expect(
          verifyConsistency(crypto.hash, {
            first,
            second: n,
            firstRoot: tree.root(first),
            secondRoot: root,
            proof: tree.consistencyProof(first, n),
          }),
        ).toBe(true);
      }),
      RUNS,
    );
  });

  it('any tampering of stored audit entries is detected', () => {
    const clock = createFakeClock(T0);
    const entryArb = (i: number): fc.Arbitrary<AuditEntry> =>
      fc.record({
        who: fc.constantFrom('CPN', 'CPN.51', 'CPN.51.C151'),
        action: fc.constantFrom('create', 'update', 'revoke'),
        resource: fc.string({ minLength: 1, maxLength: 12 }),
        decision: fc.constantFrom('allow' as const, 'deny' as const),
        requestId: fc.constant(`req-${i}`),
        time: fc.constant(new Date(T0 + i).toISOString()),
      });
    const entriesArb = fc
      .integer({ min: 1, max: 16 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => entryArb(i))));
    const tamper = fc.constantFrom('edit', 'delete', 'insert', 'swap', 'duplicate');
    fc.assert(
      fc.property(entriesArb, tamper, fc.tuple(fc.nat(), fc.nat()), (entries, how, [a, b]) => {
        const log = createAuditLog({ profile });
        entries.forEach((e) => log.append(e));
        const sth = log.signTreeHead({ logId: 'CPN.51', privateKey: keys.privateKey, clock });
        const list: AuditEntry[] = [...entries];
        const i = a % list.length;
        if (how === 'edit') list[i] = { ...list[i]!, decision: list[i]!.decision === 'allow' ? 'deny' : 'allow' };
        if (how === 'delete') list.splice(i, 1);
        if (how === 'insert') list.splice(i, 0, { ...list[i]!, requestId: 'forged' });
        if (how === 'duplicate') list.splice(i, 0, list[i]!);
        if (how === 'swap') {
          if (list.length < 2) list.pop();
          else {
            const j = (i + 1 + (b % (list.length - 1))) % list.length;
            [list[i], list[j]] = [list[j]!, list[i]!];
          }
        }
        expect(verifyAuditEntries(list, { sth, publicKey: keys.publicKey }).ok).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('canonical JSON', () => {
  const shuffle = (v: unknown, seed: number): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => shuffle(x, seed + i));
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      entries.sort((x, y) => ((x[0].length * 31 + seed) % 7) - ((y[0].length * 31 + seed) % 7) || (seed % 2 ? 1 : -1));
      return Object.fromEntries(entries.map(([k, x], i) => [k, shuffle(x, seed + i)]));
    }
    return v;
  };
  it('ignores key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
        expect(jcs(shuffle(value, seed))).toBe(jcs(value));
      }),
      RUNS,
    );
  });
});
