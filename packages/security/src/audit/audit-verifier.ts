import { err, ok, type Result } from '@cpnet/kernel';
import type { PublicKeyHandle } from '../crypto/profile.ts';
import { cryptoProfile } from '../crypto/profiles.ts';
import { b64 } from '../crypto/encoding.ts';
import { MerkleTree } from './merkle-tree.ts';
import { checkEntry, type AuditEntry } from './entry.ts';
import { entryLeafHash, verifyTreeHead, type SignedTreeHead } from './audit-log.ts';
import { verifyConsistency, verifyInclusion } from './proofs.ts';

/** Why a set of entries does not match what the log signed. */
export interface AuditFailure {
  /** The first suspicious entry, when one can be named. */
  readonly index?: number;
  readonly reason: string;
}

/**
 * Checks stored entries against a signed tree head: the head's signature, the count (deleted or inserted entries),
 * the root (edited or reordered entries), each entry's shape, and times never going backwards (a reordering hint).
 */
export function verifyAuditEntries(
  entries: readonly unknown[],
  options: { sth: SignedTreeHead; publicKey: PublicKeyHandle },
): Result<{ treeSize: number }, AuditFailure> {
  const { sth } = options;
  if (!verifyTreeHead(sth, options.publicKey))
    return err({ reason: 'the signed tree head does not verify with the log key' });
  if (entries.length !== sth.treeSize)
    return err({
      reason:
        `${entries.length} entries but the signed tree head covers ${sth.treeSize}: entries were ` +
        `${entries.length < sth.treeSize ? 'deleted' : 'inserted'}`,
    });
  const profile = cryptoProfile(sth.profile);
  const tree = new MerkleTree(profile.hash);
  let lastTime = '';
  for (const [i, e] of entries.entries()) {
    const checked = checkEntry(e);
    if (!checked.ok) return err({ index: i, reason: `entry ${i}: ${checked.error}` });
    if (checked.value.time < lastTime)
      return err({ index: i, reason: `entry ${i} is dated before entry ${i - 1}: entries were reordered` });
    lastTime = checked.value.time;
    tree.appendLeafHash(entryLeafHash(profile.hash, checked.value));
  }
  if (b64(tree.root()) !== sth.rootHash)
    return err({
      reason: 'the entries do not hash to the signed root: an entry was edited, reordered, inserted or deleted',
    });
  return ok({ treeSize: sth.treeSize });
}

/** Checks one entry's inclusion proof against a signed tree head (verify the head first with `verifyTreeHead`). */
export function verifyEntryInclusion(
  entry: AuditEntry,
  claim: { index: number; proof: readonly Uint8Array[]; sth: SignedTreeHead },
): boolean {
  const hash = cryptoProfile(claim.sth.profile).hash;
  return verifyInclusion(hash, {
    index: claim.index,
    treeSize: claim.sth.treeSize,
    leafHash: entryLeafHash(hash, entry),
    proof: claim.proof,
    root: Buffer.from(claim.sth.rootHash, 'base64'),
  });
}

/** Checks that a newer signed tree head extends an older one (no entry was removed or rewritten in between). */
export function verifyTreeHeadConsistency(
  older: SignedTreeHead,
  newer: SignedTreeHead,
  proof: readonly Uint8Array[],
): boolean {
  if (older.profile !== newer.profile || older.logId !== newer.logId) return false;
  return verifyConsistency(cryptoProfile(older.profile).hash, {
    first: older.treeSize,
    second: newer.treeSize,
    firstRoot: Buffer.from(older.rootHash, 'base64'),
    secondRoot: Buffer.from(newer.rootHash, 'base64'),
    proof,
  });
}
