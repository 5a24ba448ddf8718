import { createFakeClock } from '@cpnet/kernel';
import { formatIdentifier, parseIdentifier } from '@cpnet/identifier';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@cpnet/protocol';
import {
  ed25519Profile,
  issueHandshakeToken,
  seededRandomBytes,
  issueCertificate,
  issueRootCertificate,
  signAnswer,
  signDelegation,
  signRequest,
  SIGNATURE_LABEL,
  type KeyPair,
} from '@cpnet/security';
import { auditVectors, sm2Vectors } from './vectors-audit.ts';
import { b64, fixedKey, VECTOR_TIME_MS, vectorKeys } from './vectors-common.ts';

export { VECTOR_TIME_MS, vectorKeys } from './vectors-common.ts';

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
    negative: negativeSignatureVectors(keys),
  };
}

/** Where the negative request vectors are verified: the regional node CPN.51 at this origin. */
export const VECTOR_AUTHORITY = 'https://cpn51.example.cn';

/** Why each negative vector is refused, in cpnet's words (the `reason` of its 401). */
const REASONS: Record<string, string> = {
  'one bit of the signature flipped': 'the signature does not verify',
  'expired: verified 120 s after created (expires is created + 60)': 'the signature has expired',
  'created 60 s in the future of the verifier (allowed skew ±30 s)':
    'created is in the future beyond the allowed clock skew',
  'replayed: the same request presented twice (the first is accepted, the second refused)':
    'nonce already seen for CPN.51',
  'an unknown signature parameter (foo), correctly signed over': 'unexpected signature parameter "foo"',
  'signed for another authority (CPN.44) and presented to CPN.51':
    'the signature is for https://cpn44.example.cn, not for this node (https://cpn51.example.cn)',
  'body changed after signing (Content-Digest no longer matches)': 'Content-Digest does not match the body',
  "keyid CPN.51 but signed with CPN's key": 'the signature does not verify',
};

/**
 * Requests every verifier must refuse, each with what to do and the error code cpnet answers. All are made at
 * VECTOR_TIME_MS with the fixed keys; `verifyAt` is the verifier's clock (Unix s), `authority` its own origin.
 */
function negativeSignatureVectors(keys: ReturnType<typeof vectorKeys>) {
  const at = VECTOR_TIME_MS / 1000;
  const body = '{"kind":"SV","values":[{"index":1,"type":"URL","data":"https://example.cn","ttl":0}]}';
  const sign = (o: { url?: string; nonce: string; key?: KeyPair; keyid?: string; body?: string }) => {
    const url = o.url ?? `${VECTOR_AUTHORITY}/cpn/v1/identifiers`;
    const headers: Record<string, string> = { [PROTOCOL_HEADER]: PROTOCOL_VERSION, 'content-type': 'application/json' };
    const signed = signRequest(
      { method: 'POST', url, headers, body: o.body ?? body },
      {
        keyid: o.keyid ?? 'CPN.51',
        privateKey: (o.key ?? keys['CPN.51'].pair).privateKey,
        clock: createFakeClock(VECTOR_TIME_MS),
        nonce: o.nonce,
      },
    );
    return { method: 'POST', url, headers: { ...headers, ...signed } as Record<string, string>, body: o.body ?? body };
  };
  const forged = sign({ nonce: 'ICEiIyQlJicoKSorLC0uLw' });
  const sigBytes = Buffer.from(/:([^:]+):/.exec(forged.headers.signature!)![1]!, 'base64');
  sigBytes[0] = sigBytes[0]! ^ 0x01;
  forged.headers.signature = `${SIGNATURE_LABEL}=:${sigBytes.toString('base64')}:`;
  // A signature-input with a parameter the profile does not define, signed properly over it.
  const extra = sign({ nonce: 'MDEyMzQ1Njc4OTo7PD0-Pw' });
  extra.headers['signature-input'] = `${extra.headers['signature-input']!};foo="bar"`;
  const extraBase = signatureBaseOf(extra, extra.headers['signature-input']);
  const extraSig = ed25519Profile.sign(new TextEncoder().encode(extraBase), keys['CPN.51'].pair.privateKey);
  extra.headers.signature = `${SIGNATURE_LABEL}=:${b64(extraSig)}:`;
  const bodyChanged = sign({ nonce: 'QEFCQ0RFRkdISUpLTE1OTw' });
  bodyChanged.body = bodyChanged.body.replace('https://example.cn', 'https://attacker.example');
  const cases = [
    { name: 'one bit of the signature flipped', request: forged, code: 'UNAUTHENTICATED' },
    {
      name: 'expired: verified 120 s after created (expires is created + 60)',
      request: sign({ nonce: 'UFFSU1RVVldYWVpbXF1eXw' }),
      verifyAt: at + 120,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'created 60 s in the future of the verifier (allowed skew ±30 s)',
      request: sign({ nonce: 'YGFiY2RlZmdoaWprbG1ubw' }),
      verifyAt: at - 60,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'replayed: the same request presented twice (the first is accepted, the second refused)',
      request: sign({ nonce: 'cHFyc3R1dnd4eXp7fH1-fw' }),
      presentTwice: true,
      code: 'REPLAYED',
    },
    { name: 'an unknown signature parameter (foo), correctly signed over', request: extra, code: 'UNAUTHENTICATED' },
    {
      name: 'signed for another authority (CPN.44) and presented to CPN.51',
      request: sign({ url: 'https://cpn44.example.cn/cpn/v1/identifiers', nonce: 'gIGCg4SFhoeIiYqLjI2Ojw' }),
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'body changed after signing (Content-Digest no longer matches)',
      request: bodyChanged,
      code: 'UNAUTHENTICATED',
    },
    {
      name: "keyid CPN.51 but signed with CPN's key",
      request: sign({ nonce: 'kJGSk5SVlpeYmZqbnJ2enw', key: keys.CPN.pair }),
      code: 'UNAUTHENTICATED',
    },
  ];
  return cases.map((c) => ({
    name: c.name,
    verifyAt: c.verifyAt ?? at,
    authority: VECTOR_AUTHORITY,
    ...(c.presentTwice ? { presentTwice: true } : {}),
    request: c.request,
    // cpnet's wording of the refusal, for reading: implementations must agree on `valid` and `code` only.
    expected: { valid: false, code: c.code, reason: REASONS[c.name] },
  }));
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

/** Certificate chains (X.509, Ed25519) of one branch: the national root, Sichuan's CA, its 白酒 CA and a provider. */
async function certificateVectors(keys: ReturnType<typeof vectorKeys>) {
  const industryKey = fixedKey(3),
    providerKey = fixedKey(4),
    strangerKey = fixedKey(5);
  const DAY = 86_400_000;
  const validity = { notBefore: VECTOR_TIME_MS - DAY, notAfter: VECTOR_TIME_MS + 365 * DAY };
  const asRoot = { privateKey: keys.CPN.pair.privateKey };
  const root = await issueRootCertificate({ ...validity, privateKey: keys.CPN.pair.privateKey, serial: '01' });
  const regional = await issueCertificate(
    { ...validity, subject: 'CPN.51', publicKey: keys['CPN.51'].pair.publicKey, serial: '02' },
    { ...asRoot, certificate: root },
  );
  const asRegional = { certificate: regional, privateKey: keys['CPN.51'].pair.privateKey };
  const industry = await issueCertificate(
    { ...validity, subject: 'CPN.51.C151', publicKey: industryKey.pair.publicKey, serial: '03' },
    asRegional,
  );
  const formatted = formatIdentifier({ prefix: 'CPN.51.C151', kind: 'PV', serial: '01JQ4ZK8M3XX' });
  if (!formatted.ok) throw new Error(formatted.error.message);
  const providerId = formatted.value;
  const asIndustry = { certificate: industry, privateKey: industryKey.pair.privateKey };
  const provider = await issueCertificate(
    { ...validity, subject: providerId, publicKey: providerKey.pair.publicKey, serial: '04' },
    asIndustry,
  );
  const expired = await issueCertificate(
    {
      notBefore: VECTOR_TIME_MS - 400 * DAY,
      notAfter: VECTOR_TIME_MS - DAY,
      subject: providerId,
      publicKey: providerKey.pair.publicKey,
      serial: '05',
    },
    asIndustry,
  );
  const outside = await issueCertificate(
    { ...validity, subject: 'CPN.44.C397', publicKey: strangerKey.pair.publicKey, serial: '06' },
    asRegional,
  );
  const byStranger = await issueCertificate(
    { ...validity, subject: 'CPN.51.C151', publicKey: industryKey.pair.publicKey, serial: '07' },
    { certificate: regional, privateKey: strangerKey.pair.privateKey },
  );
  const chain = (name: string, pems: string[], verdict: { valid: boolean; reason?: string }) => ({
    name,
    chain: pems,
    ...verdict,
  });
  return {
    description:
      'X.509 chains (Ed25519, RFC 8410) leaf first, each to be verified against the root at `at` (Unix s). Names are ' +
      'URI SANs `cpn:<prefix or identifier>`; a CA at each level has basicConstraints with the path length of its ' +
      "level and may issue only names within its own prefix (see docs/profiles.md). `reason` is cpnet's wording of " +
      'the refusal, for reading: implementations must agree on `valid`.',
    at: VECTOR_TIME_MS / 1000,
    root,
    keys: {
      CPN: keys.CPN.json,
      'CPN.51': keys['CPN.51'].json,
      'CPN.51.C151': industryKey.json,
      provider: providerKey.json,
    },
    vectors: [
      chain('provider ← 白酒 industry CA ← Sichuan regional CA', [provider, industry, regional], { valid: true }),
      chain('industry CA ← regional CA', [industry, regional], { valid: true }),
      chain('the intermediate missing', [provider, regional], {
        valid: false,
        reason: 'issuer "CN=cpn:CPN.51.C151" is not the next certificate "CN=cpn:CPN.51"',
      }),
      chain('an expired provider certificate', [expired, industry, regional], {
        valid: false,
        reason: 'CPN.51.C151/PV-01JQ4ZK8M3XXS1 expired at 2025-12-31T00:00:00.000Z',
      }),
      chain('Sichuan issuing a Guangdong prefix', [outside, regional], {
        valid: false,
        reason: 'prefix CPN.44.C397 lies outside its issuer CPN.51',
      }),
      chain('an industry certificate signed by a key that is not its issuer’s', [byStranger, regional], {
        valid: false,
        reason: "the signature of CPN.51.C151 does not verify with its issuer's key",
      }),
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
    'audit.json': { keys: { 'CPN.51': keys['CPN.51'].json }, ...auditVectors(keys) },
    'certificates.json': await certificateVectors(keys),
    'sm2.json': sm2Vectors(),
    'answers.json': {
      keys: { CPN: keys.CPN.json, 'CPN.51': keys['CPN.51'].json },
      ...(await answerAndTokenVectors(keys)),
    },
  };
}
