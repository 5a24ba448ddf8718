/** A 32-byte hash function (SHA-256 or SM3). */
export type HashFn = (data: Uint8Array) => Uint8Array;

const LEAF = new Uint8Array([0x00]);

/** RFC 6962 leaf hash: H(0x00 ‖ data). */
export function leafHash(hash: HashFn, data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(data.length + 1);
  buf.set(LEAF, 0);
  buf.set(data, 1);
  return hash(buf);
}

/** RFC 6962 interior node hash: H(0x01 ‖ left ‖ right). */
export function nodeHash(hash: HashFn, left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return hash(buf);
}

/** The largest power of two strictly below n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
