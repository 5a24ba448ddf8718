import { createFakeClock } from '@cpnet/kernel';
import { parseIdentifier } from '@cpnet/identifier';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@cpnet/protocol';
import {
  createAuditLog,
  ed25519Profile,
  entryLeafHash,
  issueHandshakeToken,
  jwkThumbprint,
  seededRandomBytes,
  signAnswer,
  signDelegation,
  signRequest,
  SIGNATURE_LABEL,
  type KeyPair,
} from '@cpnet/security';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** 2026-01-01T00:00:00Z: every vector is made at this fixed time. */
export const VECTOR_TIME_MS = Date.UTC(2026, 0, 1);

/** A fixed Ed25519 key from a fixed seed, with everything a verifier in another language needs. */
function fixedKey(seed: number): { pair: KeyPair; json: Record<string, unknown> } {
  const secret = seededRandomBytes(seed)(32);
  const pair = ed25519Profile.generateKeyPair(secret);
  return {
    pair,
    json: {
      privateKeySeedHex: hex(secret),
      privateKeyPem: ed25519Profile.exportPrivateKey(pair.privateKey),
      publicKeyHex: hex(pair.publicKey.raw),
      publicKeyPem: ed25519Profile.exportPublicKey(pair.publicKey),
      jwk: ed25519Profile.publicJwk(pair.publicKey),
      jwkThumbprint: jwkThumbprint(pair.publicKey),
    },
  };
}

/** The keys of the vectors: the national node CPN and the regional node CPN.51. */
export function vectorKeys() {
  return { CPN: fixedKey(1), 'CPN.51': fixedKey(2) };
}

const IDENTIFIER_INPUTS: { input: string; note: string }[] = [
  { input: 'CPN/ND-16Q', note: "the national node's own ND record" },
  { input: 'CPN.51/ND-1EJ', note: "a node record issued by Sichuan's regional node" },
  { input: 'CPN.51.C151/CL-01JQ4ZK8M3XX1', note: 'a cluster under Sichuan 白酒 (C151), generated 12-character serial' },
  { input: 'CPN.44.C397/SV-7ZZZA3', note: 'a service under Guangdong C397' },
  { input: ' cpn.51/nd-1ej\t', note: 'ASCII spaces/tabs trimmed, letters upper-cased: canonical form CPN.51/ND-1EJ' },
  { input: '', note: 'empty' },
  { input: 'CPN.51/ND-1EJ\u3000', note: 'an ideographic space is not trimmed: non-ASCII is rejected' },
  { input: 'CPN.51/ND-1\u017f', note: 'ſ is not folded to S' },
  { input: 'CPN.51ND-1EJ', note: 'no "/" between prefix and suffix' },
  { input: 'XPN.51/ND-1EJ', note: 'the prefix does not start with CPN' },
  { input: 'CPN.99/ND-1EJ', note: 'not a GB/T 2260 province-level code' },
  { input: 'CPN.5/ND-1EJ', note: 'region not 2 digits' },
  { input: 'CPN.51.C011/CL-1AA', note: 'division 01 is in section A, not C' },
  { input: 'CPN.51.C150/CL-1AA', note: 'a 中类 ends in a digit 1–9' },
  { input: 'CPN.51/ZZ-1EJ', note: 'unknown kind' },
  { input: 'CPN.51/ND1EJ', note: 'kind not followed by "-"' },
  { input: 'CPN.51/ND-1O', note: 'serial and check too short' },
  { input: 'CPN.51/ND-O1EJ', note: 'O is not in Crockford base-32 (no aliasing to 0)' },
  { input: 'CPN.51/ND-01234567890123456XX', note: 'serial longer than 16 characters' },
  { input: 'CPN.51/ND-1EK', note: 'wrong check characters: the expected pair is named' },
];

function identifierVectors() {
  return {
    description:
      'Identifiers (算力标识) and their verdicts. A valid input gives its canonical form and parts; an invalid one the ' +
      'failing segment, the message and what was expected (for wrong check characters, the expected pair). Messages ' +
      "are cpnet's wording: implementations must agree on `valid`, `segment` and, for valid inputs, the canonical form and parts.",
    vectors: IDENTIFIER_INPUTS.map(({ input, note }) => {
      const r = parseIdentifier(input);
      return r.ok
        ? {
            input,
            note,
            valid: true,
            canonical: r.value.id,
            parts: {
              prefix: r.value.prefix,
              region: r.value.region,
              industry: r.value.industry,
              kind: r.value.kind,
              serial: r.value.serial,
              check: r.value.check,
            },
          }
        : { input, note, valid: false, segment: r.error.segment, message: r.error.message, expected: r.error.expected };
    }),
  };
}

/** The RFC 9421 signature base, rebuilt from the request and the Signature-Input member (for other implementations to compare). */
export function signatureBaseOf(
  request: { method: string; url: string; headers: Record<string, string> },
  signatureInput: string,
): string {
  const params = signatureInput.slice(`${SIGNATURE_LABEL}=`.length);
  const components = /^\(([^)]*)\)/
    .exec(params)![1]!
    .split(' ')
    .map((c) => c.slice(1, -1));
  const lines = components.map((c) => {
    if (c === '@method') return `"@method": ${request.method}`;
    if (c === '@target-uri') return `"@target-uri": ${request.url}`;
    return `"${c}": ${request.headers[c]!}`;
  });
  return [...lines, `"@signature-params": ${params}`].join('\n');
}

function signatureVectors(keys: ReturnType<typeof vectorKeys>) {
  const clock = createFakeClock(VECTOR_TIME_MS);
  const cases = [
    {
      name: 'signed POST with a body (content-type and content-digest covered)',
      keyid: 'CPN.51',
      method: 'POST',
      url: 'https://cpn51.example.cn/cpn/v1/identifiers',
      body: '{"kind":"SV","values":[{"index":1,"type":"URL","data":"https://example.cn","ttl":0}]}',
      nonce: 'AAECAwQFBgcICQoLDA0ODw',
    },
    {
      name: 'signed GET without a body (an identifier with %2F in the target URI)',
      keyid: 'CPN',
      method: 'GET',
      url: 'https://cpn.example.cn/cpn/v1/identifiers/CPN.51%2FND-1EJ',
      body: undefined,
      nonce: 'EBESExQVFhcYGRobHB0eHw',
    },
  ] as const;
  return {
    description:
      `RFC 9421 HTTP Message Signatures (Ed25519, label "${SIGNATURE_LABEL}") with fixed keys, created = ` +
      `${VECTOR_TIME_MS / 1000} (2026-01-01T00:00:00Z) and fixed nonces. Ed25519 signatures are deterministic: an ` +
      `implementation must produce the same signature base and signature, and verify the given headers with the public ` +
      `key (at that time; ±30 s skew, expires ≤ created + 60).`,
    keys: { CPN: keys.CPN.json, 'CPN.51': keys['CPN.51'].json },
    vectors: cases.map((c) => {
      const headers: Record<string, string> = {
        [PROTOCOL_HEADER]: PROTOCOL_VERSION,
        ...(c.body ? { 'content-type': 'application/json' } : {}),
      };
      const signed = signRequest(
        { method: c.method, url: c.url, headers, body: c.body },
        { keyid: c.keyid, privateKey: keys[c.keyid].pair.privateKey, clock, nonce: c.nonce },
      );
      const all: Record<string, string> = { ...headers, ...signed };
      return {
        name: c.name,
        keyid: c.keyid,
        created: VECTOR_TIME_MS / 1000,
        request: { method: c.method, url: c.url, headers, ...(c.body ? { body: c.body } : {}) },
        signatureBase: signatureBaseOf({ method: c.method, url: c.url, headers: all }, signed['signature-input']),
        headers: signed,
      };
    }),
  };
}

async function delegationVectors(keys: ReturnType<typeof vectorKeys>) {
  const nbf = VECTOR_TIME_MS / 1000 - 60;
  const claims = { iss: 'CPN', prefix: 'CPN.51', serial: 'DLG0000000001', nbf, exp: nbf + 365 * 86_400 };
  const token = await signDelegation(claims, {
    parentKey: keys.CPN.pair.privateKey,
    childPublicKey: keys['CPN.51'].pair.publicKey,
  });
  const [h, p, s] = token.split('.') as [string, string, string];
  const forgedPayload = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), prefix: 'CPN.44' }),
  ).toString('base64url');
  return {
    description:
      'Prefix delegations: compact JWS (EdDSA) by the parent over the JCS of { iss, prefix, sub_jkt, serial, nbf, exp ' +
      "} (sub_jkt = RFC 7638 thumbprint of the child's key). Verify with the parent's public key at `at`.",
    at: VECTOR_TIME_MS / 1000,
    parent: 'CPN',
    child: 'CPN.51',
    vectors: [
      {
        name: 'valid delegation of CPN.51 by CPN',
        token,
        header: JSON.parse(Buffer.from(h, 'base64url').toString()) as unknown,
        payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as unknown,
        valid: true,
      },
      {
        name: 'payload changed (prefix CPN.44) after signing',
        token: `${h}.${forgedPayload}.${s}`,
        valid: false,
        reason: 'the signature does not verify',
      },
    ],
  };
}

const AUDIT_ENTRIES = Array.from({ length: 7 }, (_, i) => ({
  who: i % 2 === 0 ? 'CPN.51' : 'CPN.51.C151',
  action: ['register', 'update', 'apply', 'review:approve', 'echo', 'revoke', 'joint-debug'][i]!,
  resource: `identifier:CPN.51/SV-${i}`,
  decision: i === 5 ? 'deny' : 'allow',
  requestId: `req-${i}`,
  time: new Date(VECTOR_TIME_MS + i * 1000).toISOString(),
}));

function auditVectors() {
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
  };
}

async function answerAndTokenVectors(keys: ReturnType<typeof vectorKeys>) {
  const answer = {
    record: {
      id: 'CPN.51/ND-1EJ',
      kind: 'ND',
      owner: 'CPN.51',
      version: 1,
      status: 'active',
      values: [
        {
          index: 1,
          type: 'URL',
          data: 'https://cpn51.example.cn',
          ttl: 3600,
          permissions: { publicRead: true, adminRead: true, adminWrite: true },
        },
      ],
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    },
    answeredBy: 'CPN.51',
    authoritative: true,
    path: ['CPN', 'CPN.51'],
    cachedUntil: '2026-01-01T01:00:00.000Z',
  };
  const signed = await signAnswer(answer, { keyid: 'CPN.51', privateKey: keys['CPN.51'].pair.privateKey });
  const token = await issueHandshakeToken(
    { keyid: 'CPN', audience: 'CPN.51', namespace: '/monitor' },
    { privateKey: keys.CPN.pair.privateKey, clock: createFakeClock(VECTOR_TIME_MS), randomBytes: seededRandomBytes(7) },
  );
  return {
    description:
      'Signed resolution answers (detached JWS, RFC 7515 App. F, `header..signature` over the JCS of the answer ' +
      'without `signature`) and a /monitor handshake token (compact JWS over the JCS of its claims).',
    answers: [{ name: 'an answer signed by CPN.51', keyid: 'CPN.51', answer, signature: signed.signature }],
    handshakeTokens: [
      {
        name: 'CPN opens /monitor of CPN.51',
        keyid: 'CPN',
        audience: 'CPN.51',
        namespace: '/monitor',
        at: VECTOR_TIME_MS / 1000,
        token,
      },
    ],
  };
}

/** Every vector file, by name under docs/vectors/. */
export async function vectorFiles(): Promise<Record<string, unknown>> {
  const keys = vectorKeys();
  return {
    'identifiers.json': identifierVectors(),
    'signatures.json': signatureVectors(keys),
    'delegations.json': {
      keys: { CPN: keys.CPN.json, 'CPN.51': keys['CPN.51'].json },
      ...(await delegationVectors(keys)),
    },
    'audit.json': auditVectors(),
    'answers.json': {
      keys: { CPN: keys.CPN.json, 'CPN.51': keys['CPN.51'].json },
      ...(await answerAndTokenVectors(keys)),
    },
  };
}
