import type { TimeSource } from '@cpnet/kernel';
import type { PrivateKeyHandle, ProfileName, PublicKeyHandle } from '../crypto/profile.ts';
import { cryptoProfile } from '../crypto/profiles.ts';
import { b64, fromB64url, b64url, jcsBytes } from '../crypto/encoding.ts';
import { leafHash, type HashFn } from './hashes.ts';
import { MerkleTree } from './merkle-tree.ts';
import { checkEntry, type AuditEntry } from './entry.ts';

/** A signed tree head: the log's size and root at a time, signed by the log's key. */
export interface SignedTreeHead {
  readonly logId: string;
  readonly treeSize: number;
  /** base64 root hash. */
  readonly rootHash: string;
  /** Unix ms. */
  readonly timestamp: number;
  /** The crypto profile of the hashes and signature. */
  readonly profile: ProfileName;
  /** base64url signature over the JCS of the other fields. */
  readonly signature: string;
}

/** The leaf hash of an entry: H(0x00 ‖ JCS(entry)). */
export const entryLeafHash = (hash: HashFn, entry: AuditEntry): Uint8Array => leafHash(hash, jcsBytes(entry));

/** An append-only audit log over a Merkle tree. */
export interface AuditLog {
  readonly profile: ProfileName;
  readonly size: number;
  /** Appends a checked entry; throws on a malformed one (a programming error at the caller). */
  append(entry: AuditEntry): number;
  /** The entries kept (all, unless created with keepEntries: false). */
  entries(): readonly AuditEntry[];
  root(treeSize?: number): Uint8Array;
  inclusionProof(index: number, treeSize?: number): Uint8Array[];
  consistencyProof(first: number, second?: number): Uint8Array[];
  leafHash(index: number): Uint8Array;
  signTreeHead(signer: { logId: string; privateKey: PrivateKeyHandle; clock: TimeSource }): SignedTreeHead;
  readonly tree: MerkleTree;
}

/** Creates an audit log hashing with the profile's hash (SHA-256 or SM3). */
export function createAuditLog(options: { profile?: ProfileName; keepEntries?: boolean } = {}): AuditLog {
  const profile = cryptoProfile(options.profile ?? 'ed25519');
  const tree = new MerkleTree(profile.hash);
  const kept: AuditEntry[] = [];
  const keep = options.keepEntries ?? true;
  return {
    profile: profile.name,
    get size() {
      return tree.size;
    },
    append(entry) {
      const checked = checkEntry(entry);
      if (!checked.ok) throw new TypeError(checked.error);
      if (keep) kept.push(entry);
      return tree.appendLeafHash(entryLeafHash(profile.hash, entry));
    },
    entries: () => kept,
    root: (n) => tree.root(n),
    inclusionProof: (i, n) => tree.inclusionProof(i, n),
    consistencyProof: (a, b) => tree.consistencyProof(a, b),
    leafHash: (i) => tree.leaf(i),
    signTreeHead(signer) {
      if (signer.privateKey.profile !== profile.name)
        throw new TypeError(`the log hashes with ${profile.name}; sign with a ${profile.name} key`);
      const head = {
        logId: signer.logId,
        treeSize: tree.size,
        rootHash: b64(tree.root()),
        timestamp: signer.clock.now(),
        profile: profile.name,
      };
      return { ...head, signature: b64url(profile.sign(jcsBytes(head), signer.privateKey)) };
    },
    tree,
  };
}

/** Verifies a signed tree head's signature with the log's public key. */
export function verifyTreeHead(sth: SignedTreeHead, publicKey: PublicKeyHandle): boolean {
  if (sth === null || typeof sth !== 'object' || sth.profile !== publicKey.profile) return false;
  const { signature, ...head } = sth;
  const keys = Object.keys(head).sort().join(',');
  if (keys !== 'logId,profile,rootHash,timestamp,treeSize') return false;
  const sig = typeof signature === 'string' ? fromB64url(signature) : null;
  if (!sig) return false;
  return cryptoProfile(publicKey.profile).verify(jcsBytes(head), sig, publicKey);
}
