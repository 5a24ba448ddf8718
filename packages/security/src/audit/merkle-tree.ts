import { nodeHash, splitPoint, type HashFn } from './hashes.ts';

const HASH_SIZE = 32;

/** A growable flat array of 32-byte hashes (one allocation per doubling, not one object per hash). */
class HashArray {
  private buf = new Uint8Array(HASH_SIZE * 64);
  length = 0;
  push(h: Uint8Array): void {
    if ((this.length + 1) * HASH_SIZE > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf.set(h, this.length * HASH_SIZE);
    this.length++;
  }
  get(i: number): Uint8Array {
    return this.buf.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }
}

/**
 * An append-only RFC 6962 Merkle tree that keeps every complete subtree hash (level k holds the hashes of aligned
 * runs of 2^k leaves): appends are amortised O(1) hashes, roots and proofs O(log² n) hashes at worst, no rehashing.
 */
export class MerkleTree {
  private readonly levels: HashArray[] = [new HashArray()];
  constructor(private readonly hash: HashFn) {}

  /** The number of leaves. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends a leaf hash (already domain-separated with 0x00); returns its index. */
  appendLeafHash(h: Uint8Array): number {
    if (h.length !== HASH_SIZE) throw new RangeError('a leaf hash is 32 bytes');
    const index = this.size;
    this.levels[0]!.push(h);
    let i = index,
      k = 0;
    while (i % 2 === 1) {
      const level = this.levels[k]!;
      const parent = nodeHash(this.hash, level.get(i - 1), level.get(i));
      if (!this.levels[k + 1]) this.levels.push(new HashArray());
      this.levels[k + 1]!.push(parent);
      i = (i - 1) / 2;
      k++;
    }
    return index;
  }

  /** The hash of leaf `i`. */
  leaf(i: number): Uint8Array {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`no leaf ${i}`);
    return this.levels[0]!.get(i);
  }

  /** MTH(D[start:end]) per RFC 6962 §2.1; the empty tree hashes to H(""). */
  subtreeHash(start: number, end: number): Uint8Array {
    const n = end - start;
    if (n === 0) return this.hash(new Uint8Array(0));
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const k = Math.log2(n);
      const level = this.levels[k];
      if (level && start / n < level.length) return level.get(start / n);
    }
    const k = splitPoint(n);
    return nodeHash(this.hash, this.subtreeHash(start, start + k), this.subtreeHash(start + k, end));
  }

  /** The root hash of the first `treeSize` leaves (default: all). */
  root(treeSize = this.size): Uint8Array {
    this.checkSize(treeSize);
    return this.subtreeHash(0, treeSize);
  }

  /** RFC 6962 §2.1.1 audit path of leaf `m` in the tree of the first `treeSize` leaves. */
  inclusionProof(m: number, treeSize = this.size): Uint8Array[] {
    this.checkSize(treeSize);
    if (!(m >= 0 && m < treeSize)) throw new RangeError(`leaf ${m} is not in a tree of ${treeSize}`);
    const proof: Uint8Array[] = [];
    let start = 0,
      end = treeSize,
      index = m;
    const stack: Uint8Array[] = [];
    while (end - start > 1) {
      const k = splitPoint(end - start);
      if (index < k) {
        stack.push(this.subtreeHash(start + k, end));
        end = start + k;
      } else {
        stack.push(this.subtreeHash(start, start + k));
        start += k;
        index -= k;
      }
    }
    // The path lists siblings from the leaf upwards; the walk above found them top-down.
    while (stack.length > 0) proof.push(stack.pop()!);
    return proof;
  }

  /** RFC 6962 §2.1.2 consistency proof between the trees of the first `first` and `second` leaves. */
  consistencyProof(first: number, second = this.size): Uint8Array[] {
    this.checkSize(second);
    if (!(first >= 0 && first <= second)) throw new RangeError(`cannot prove ${first} consistent with ${second}`);
    if (first === 0 || first === second) return [];
    const stack: Uint8Array[] = [];
    let start = 0,
      end = second,
      m = first,
      complete = true;
    while (m !== end - start) {
      const k = splitPoint(end - start);
      if (m <= k) {
        stack.push(this.subtreeHash(start + k, end));
        end = start + k;
      } else {
        stack.push(this.subtreeHash(start, start + k));
        start += k;
        m -= k;
        complete = false;
      }
    }
    if (!complete) stack.push(this.subtreeHash(start, end));
    return stack.reverse();
  }

  private checkSize(treeSize: number): void {
    if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > this.size)
      throw new RangeError(`tree size ${treeSize} is not between 0 and ${this.size}`);
  }
}
