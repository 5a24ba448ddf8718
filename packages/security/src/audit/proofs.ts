import { bytesEqual } from '../crypto/encoding.ts';
import { nodeHash, type HashFn } from './hashes.ts';

const odd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/** RFC 9162 §2.1.3.2: does `proof` show leaf `index` with `leafHash` in the tree of `treeSize` with `root`? */
export function verifyInclusion(
  hash: HashFn,
  claim: { index: number; treeSize: number; leafHash: Uint8Array; proof: readonly Uint8Array[]; root: Uint8Array },
): boolean {
  const { index, treeSize, proof } = claim;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  let fn = index,
    sn = treeSize - 1,
    r = claim.leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = nodeHash(hash, p, r);
      if (!odd(fn))
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else {
      r = nodeHash(hash, r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(r, claim.root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of `first` leaves (`firstRoot`) is a prefix of the tree of `second` leaves? */
export function verifyConsistency(
  hash: HashFn,
  claim: { first: number; second: number; firstRoot: Uint8Array; secondRoot: Uint8Array; proof: readonly Uint8Array[] },
): boolean {
  const { first, second } = claim;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (first === second) return claim.proof.length === 0 && bytesEqual(claim.firstRoot, claim.secondRoot);
  if (first === 0) return claim.proof.length === 0; // the empty tree is a prefix of every tree
  const proof = (first & (first - 1)) === 0 && first <= 2 ** 31 ? [claim.firstRoot, ...claim.proof] : [...claim.proof];
  if (proof.length === 0) return false;
  let fn = first - 1,
    sn = second - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = proof[0]!,
    sr = proof[0]!;
  for (const c of proof.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(hash, c, fr);
      sr = nodeHash(hash, c, sr);
      if (!odd(fn))
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else {
      sr = nodeHash(hash, sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(fr, claim.firstRoot) && bytesEqual(sr, claim.secondRoot);
}
