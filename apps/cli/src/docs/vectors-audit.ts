import { createFakeClock } from '@cpnet/kernel';
import {
  createAuditLog,
  ed25519Profile,
  entryLeafHash,
  seededRandomBytes,
  sm2Profile,
  sm2SignWithNonce,
  sm2UserHash,
} from '@cpnet/security';
import { b64, hex, VECTOR_TIME_MS, type vectorKeys } from './vectors-common.ts';

const AUDIT_ENTRIES = Array.from({ length: 7 }, (_, i) => ({
  who: i % 2 === 0 ? 'CPN.51' : 'CPN.51.C151',
  action: ['register', 'update', 'apply', 'review:approve', 'echo', 'revoke', 'joint-debug'][i]!,
  resource: `identifier:CPN.51/SV-${i}`,
  decision: i === 5 ? 'deny' : 'allow',
  requestId: `req-${i}`,
  time: new Date(VECTOR_TIME_MS + i * 1000).toISOString(),
}));

export function auditVectors(keys: ReturnType<typeof vectorKeys>) {
  const log = createAuditLog();
  for (const e of AUDIT_ENTRIES) log.append(e as never);
  const hash = ed25519Profile.hash;
  const inclusion = [
    [0, 1],
    [2, 7],
    [6, 7],
    [4, 5],
  ].map(([index, treeSize]) => ({
    index: index!,
    treeSize: treeSize!,
    leafHash: b64(log.leafHash(index!)),
    proof: log.inclusionProof(index!, treeSize).map(b64),
    root: b64(log.root(treeSize)),
  }));
  const consistency = [
    [1, 2],
    [3, 7],
    [4, 7],
    [6, 7],
  ].map(([first, second]) => ({
    first: first!,
    second: second!,
    firstRoot: b64(log.root(first)),
    secondRoot: b64(log.root(second)),
    proof: log.consistencyProof(first!, second).map(b64),
  }));
  return {
    description:
      'The Merkle audit log (RFC 6962 §2.1, SHA-256): leaf = H(0x00 ‖ JCS(entry)), node = H(0x01 ‖ left ‖ right). ' +
      'Hashes in base64. Inclusion and consistency proofs verify with the RFC 9162 §2.1.3.2 / §2.1.4.2 algorithms.',
    hash: 'sha-256',
    entries: AUDIT_ENTRIES.map((e) => ({ entry: e, leafHash: b64(entryLeafHash(hash, e as never)) })),
    roots: Array.from({ length: AUDIT_ENTRIES.length }, (_, i) => ({ treeSize: i + 1, root: b64(log.root(i + 1)) })),
    inclusion,
    consistency,
    signedTreeHeads: signedTreeHeads(log, keys),
  };
}

/** Tree heads of the audit log signed by CPN.51 (JCS of every field but `signature`, EdDSA), and a forged one. */
function signedTreeHeads(log: ReturnType<typeof createAuditLog>, keys: ReturnType<typeof vectorKeys>) {
  const clock = createFakeClock(VECTOR_TIME_MS + 60_000);
  const sth = log.signTreeHead({ logId: 'CPN.51', privateKey: keys['CPN.51'].pair.privateKey, clock });
  const forged = log.signTreeHead({ logId: 'CPN.51', privateKey: keys.CPN.pair.privateKey, clock });
  return [
    { name: 'tree head of all 7 entries, signed by CPN.51', keyid: 'CPN.51', sth, valid: true },
    { name: 'the same head signed with the wrong key (CPN)', keyid: 'CPN.51', sth: forged, valid: false },
    {
      name: 'a valid signature over another root (the root hash replaced)',
      keyid: 'CPN.51',
      sth: { ...sth, rootHash: b64(log.root(6)) },
      valid: false,
    },
  ];
}

/** SM3 digests and SM2 signatures (GB/T 32918 with SM3, default user id) with fixed keys and fixed nonces. */
export function sm2Vectors() {
  const seed = (n: number) => seededRandomBytes(n)(32);
  const key = sm2Profile.generateKeyPair(seed(21));
  const nonce = sm2Profile.generateKeyPair(seed(22));
  const utf8 = (t: string) => new TextEncoder().encode(t);
  const messages = ['abc', 'abcd'.repeat(16), '算力互联互通'];
  const signatures = messages.map((m) => {
    const sig = sm2SignWithNonce(utf8(m), key.privateKey, nonce.privateKey);
    return { message: m, signatureHex: hex(sig), valid: sm2Profile.verify(utf8(m), sig, key.publicKey) };
  });
  const tampered = Uint8Array.from(Buffer.from(signatures[0]!.signatureHex, 'hex'));
  tampered[63] = tampered[63]! ^ 0x01;
  return {
    description:
      'SM3 (GB/T 32905) digests, and SM2 signatures (GB/T 32918.2) with SM3 over Z_A ‖ M, the default user id ' +
      '1234567812345678, signatures as r ‖ s (64 bytes, hex), public keys as uncompressed points (04 ‖ x ‖ y). The ' +
      "signatures use a fixed nonce k (given) so bytes can be compared; production signing draws a fresh k. 'abc' and " +
      "'abcd'×16 are the standard's own examples for SM3.",
    digests: messages.map((m) => ({ message: m, sm3Hex: hex(sm2Profile.hash(utf8(m))) })),
    key: {
      privateKeyHex: sm2Profile.exportPrivateKey(key.privateKey),
      publicKeyHex: sm2Profile.exportPublicKey(key.publicKey),
      userId: '1234567812345678',
      zHex: hex(sm2UserHash(key.publicKey)),
    },
    nonceKHex: sm2Profile.exportPrivateKey(nonce.privateKey),
    signatures: [
      ...signatures,
      { message: 'abc', signatureHex: hex(tampered), valid: false, note: 'the last bit of s flipped' },
    ],
  };
}
