import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { T0, testKeys } from '../testing/fixtures.ts';
import type { ProfileName } from '../crypto/profile.ts';
import { cryptoProfile } from '../crypto/profiles.ts';
import { createAuditLog, verifyTreeHead } from './audit-log.ts';
import { verifyAuditEntries, verifyEntryInclusion, verifyTreeHeadConsistency } from './audit-verifier.ts';
import { verifyConsistency, verifyInclusion } from './proofs.ts';
import { MerkleTree } from './merkle-tree.ts';
import { leafHash, nodeHash } from './hashes.ts';
import type { AuditEntry } from './entry.ts';

export const entry = (i: number): AuditEntry => ({
  who: `CPN.51.C${151 + (i % 3)}`,
  action: i % 2 ? 'update' : 'create',
  resource: `CPN.51.C151/CL-${i}`,
  decision: i % 5 === 0 ? 'deny' : 'allow',
  requestId: `req-${i}`,
  time: new Date(T0 + i * 1000).toISOString(),
});

/** The RFC 6962 definition, recursively, as an independent reference. */
function referenceRoot(hash: (d: Uint8Array) => Uint8Array, leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return hash(new Uint8Array(0));
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(hash, referenceRoot(hash, leaves.slice(0, k)), referenceRoot(hash, leaves.slice(k)));
}

describe.each<ProfileName>(['ed25519', 'sm2'])('audit log (%s)', (profile) => {
  const hash = cryptoProfile(profile).hash;
  const keys = testKeys(21, profile);
  const clock = createFakeClock(T0);

  it('matches the RFC 6962 definition and proves every inclusion and consistency up to 33 leaves', () => {
    const tree = new MerkleTree(hash);
    const leaves: Uint8Array[] = [];
    for (let n = 1; n <= 33; n++) {
      const l = leafHash(hash, new TextEncoder().encode(`leaf ${n}`));
      leaves.push(l);
      tree.appendLeafHash(l);
      expect(Buffer.from(tree.root()).equals(Buffer.from(referenceRoot(hash, leaves)))).toBe(true);
    }
    for (let n = 1; n <= 33; n++) {
      const root = tree.root(n);
      for (let m = 0; m < n; m++) {
        expect(
          verifyInclusion(hash, {
            index: m,
            treeSize: n,
            leafHash: leaves[m]!,
            proof: tree.inclusionProof(m, n),
            root,
          }),
        ).toBe(true);
      }
      for (let m = 1; m <= n; m++) {
        expect(
          verifyConsistency(hash, {
            first: m,
            second: n,
            firstRoot: tree.root(m),
            secondRoot: root,
            proof: tree.consistencyProof(m, n),
          }),
        ).toBe(true);
      }
    }
  });

  it('refuses a proof for the wrong leaf, index or root', () => {
    const tree = new MerkleTree(hash);
    for (let i = 0; i < 10; i++) tree.appendLeafHash(leafHash(hash, new Uint8Array([i])));
    const proof = tree.inclusionProof(3);
    const root = tree.root();
    expect(verifyInclusion(hash, { index: 3, treeSize: 10, leafHash: tree.leaf(4), proof, root })).toBe(false);
    expect(verifyInclusion(hash, { index: 4, treeSize: 10, leafHash: tree.leaf(3), proof, root })).toBe(false);
    expect(verifyInclusion(hash, { index: 3, treeSize: 10, leafHash: tree.leaf(3), proof, root: tree.root(9) })).toBe(
      false,
    );
    expect(
      verifyConsistency(hash, {
        first: 6,
        second: 10,
        firstRoot: tree.root(5),
        secondRoot: root,
        proof: tree.consistencyProof(6),
      }),
    ).toBe(false);
  });

  it('signs tree heads and lets an auditor detect edits, deletions, insertions and reordering', () => {
    const log = createAuditLog({ profile });
    for (let i = 0; i < 20; i++) log.append(entry(i));
    const sth = log.signTreeHead({ logId: 'CPN.51', privateKey: keys.privateKey, clock });
    expect(verifyTreeHead(sth, keys.publicKey)).toBe(true);
    const stored = [...log.entries()];
    const opts = { sth, publicKey: keys.publicKey };
    expect(verifyAuditEntries(stored, opts).ok).toBe(true);
    const edited = stored.map((e, i) =>
      i === 7 ? { ...e, decision: e.decision === 'allow' ? ('deny' as const) : ('allow' as const) } : e,
    );
    expect(verifyAuditEntries(edited, opts).ok).toBe(false);
    expect(
      verifyAuditEntries(
        stored.filter((_, i) => i !== 3),
        opts,
      ),
    ).toMatchObject({ ok: false, error: { reason: expect.stringContaining('deleted') } });
    expect(verifyAuditEntries([...stored.slice(0, 5), entry(99), ...stored.slice(5)], opts)).toMatchObject({
      ok: false,
      error: { reason: expect.stringContaining('inserted') },
    });
    const swapped = [...stored];
    [swapped[4], swapped[5]] = [swapped[5]!, swapped[4]!];
    expect(verifyAuditEntries(swapped, opts).ok).toBe(false);
    expect(verifyEntryInclusion(stored[7]!, { index: 7, proof: log.inclusionProof(7), sth })).toBe(true);
    expect(verifyEntryInclusion(edited[7]!, { index: 7, proof: log.inclusionProof(7), sth })).toBe(false);
  });

  it('proves a newer head extends an older one', () => {
    const log = createAuditLog({ profile });
    for (let i = 0; i < 13; i++) log.append(entry(i));
    const older = log.signTreeHead({ logId: 'CPN.51', privateKey: keys.privateKey, clock });
    for (let i = 13; i < 40; i++) log.append(entry(i));
    const newer = log.signTreeHead({ logId: 'CPN.51', privateKey: keys.privateKey, clock });
    expect(verifyTreeHeadConsistency(older, newer, log.consistencyProof(13, 40))).toBe(true);
    const forked = createAuditLog({ profile });
    for (let i = 0; i < 40; i++) forked.append(i === 2 ? { ...entry(i), who: 'CPN.52' } : entry(i));
    const forkedHead = forked.signTreeHead({ logId: 'CPN.51', privateKey: keys.privateKey, clock });
    expect(verifyTreeHeadConsistency(older, forkedHead, forked.consistencyProof(13, 40))).toBe(false);
  });

  it('refuses malformed entries at append', () => {
    const log = createAuditLog({ profile });
    expect(() => log.append({ ...entry(1), extra: 1 } as unknown as AuditEntry)).toThrow(/unknown/);
    expect(() => log.append({ ...entry(1), decision: 'maybe' } as unknown as AuditEntry)).toThrow(/decision/);
  });
});
