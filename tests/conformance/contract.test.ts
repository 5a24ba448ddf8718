import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { contractFiles, signatureBaseOf, VECTOR_TIME_MS } from '@cpnet/cli';
import { canonicalise, parseIdentifier } from '@cpnet/identifier';
import {
  createMemoryNonceStore,
  createVerifier,
  ed25519Profile,
  entryLeafHash,
  sm2Profile,
  verifyAnswer,
  verifyChain,
  verifyTreeHead,
  verifyConsistency,
  verifyDelegation,
  verifyHandshakeToken,
  verifyInclusion,
} from '@cpnet/security';
import { IdentifierRecord, ResolutionAnswer } from '@cpnet/protocol';

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');
const read = (name: string) => JSON.parse(readFileSync(path.join(docs, name), 'utf8')) as Record<string, unknown>;
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const key = (pem: string) => ed25519Profile.importPublicKey(pem);

describe('the generated contract in docs/', () => {
  it('is what the generator writes now (run `npm run docs` after changing a schema)', async () => {
    const files = await contractFiles();
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining([
        'openapi.json',
        'asyncapi.json',
        'vectors/identifiers.json',
        'vectors/signatures.json',
        'vectors/delegations.json',
        'vectors/audit.json',
        'vectors/certificates.json',
        'vectors/sm2.json',
      ]),
    );
    for (const [name, text] of Object.entries(files)) {
      let committed: string;
      try {
        committed = readFileSync(path.join(docs, name), 'utf8');
      } catch {
        committed = '<missing>';
      }
      if (committed !== text)
        expect.fail(
          `docs/${name} is out of date with the code: run \`npm run docs\` at the repository root and commit the result`,
        );
    }
  });

  it('describes every socket.io event of /monitor and /gateway in AsyncAPI 3', () => {
    const doc = read('asyncapi.json') as {
      asyncapi: string;
      channels: Record<string, { address: string; messages: Record<string, { name: string }> }>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.asyncapi).toBe('3.0.0');
    expect(
      Object.values(doc.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(['/gateway', '/monitor']);
    expect(
      Object.values(doc.channels.gateway!.messages)
        .map((m) => m.name)
        .sort(),
    ).toEqual(['ack', 'cancel', 'control', 'dispatch', 'job-update', 'report', 'session']);
    for (const s of [
      'HandshakeClaims',
      'MonitorSnapshot',
      'TopologySnapshot',
      'MonitorEvent',
      'CapacityReport',
      'GatewayAck',
      'GatewayAuth',
    ])
      expect(doc.components.schemas[s]).toBeDefined();
  });
});

describe('test vectors verify with our implementation', () => {
  it('identifiers: verdicts, canonical forms and failing segments', () => {
    const { vectors } = read('vectors/identifiers.json') as {
      vectors: { input: string; valid: boolean; canonical?: string; segment?: string; expected?: string }[];
    };
    const segments = new Set<string>();
    for (const v of vectors) {
      const r = parseIdentifier(v.input);
      expect(r.ok, v.input).toBe(v.valid);
      if (r.ok) expect(canonicalise(v.input)).toMatchObject({ ok: true, value: v.canonical });
      else {
        expect(r.error.segment).toBe(v.segment);
        expect(r.error.expected).toBe(v.expected);
        segments.add(r.error.segment);
      }
    }
    expect([...segments].sort()).toEqual(['check', 'industry', 'input', 'kind', 'prefix', 'region', 'serial']);
  });

  it('RFC 9421 signatures: the base matches and the request verifies at the vector time', async () => {
    const doc = read('vectors/signatures.json') as {
      keys: Record<string, { publicKeyPem: string }>;
      vectors: {
        keyid: string;
        request: { method: string; url: string; headers: Record<string, string>; body?: string };
        signatureBase: string;
        headers: Record<string, string>;
      }[];
    };
    for (const v of doc.vectors) {
      const all = { ...v.request.headers, ...v.headers };
      expect(
        signatureBaseOf({ method: v.request.method, url: v.request.url, headers: all }, v.headers['signature-input']!),
      ).toBe(v.signatureBase);
      const sig = /^cpn=:(.*):$/.exec(v.headers.signature!)![1]!;
      expect(
        ed25519Profile.verify(
          new TextEncoder().encode(v.signatureBase),
          bytes(sig),
          key(doc.keys[v.keyid]!.publicKeyPem),
        ),
      ).toBe(true);
      const clock = createFakeClock(VECTOR_TIME_MS + 5000);
      const verifier = createVerifier({
        resolveKey: (k) => (k === v.keyid ? key(doc.keys[k]!.publicKeyPem) : null),
        nonceStore: createMemoryNonceStore({ clock }),
        clock,
        startedAt: VECTOR_TIME_MS - 1000,
      });
      const r = await verifier.verify({
        method: v.request.method,
        url: v.request.url,
        headers: all,
        body: v.request.body,
      });
      expect(r.ok, JSON.stringify(r)).toBe(true);
      const tampered = await verifier.verify({
        method: v.request.method,
        url: `${v.request.url}x`,
        headers: all,
        body: v.request.body,
      });
      expect(tampered.ok).toBe(false);
    }
  });

  it('negative request vectors: each is refused with the code it names, at the vector time and authority', async () => {
    const doc = read('vectors/signatures.json') as {
      keys: Record<string, { publicKeyPem: string }>;
      negative: {
        name: string;
        verifyAt: number;
        authority: string;
        presentTwice?: boolean;
        request: { method: string; url: string; headers: Record<string, string>; body: string };
        expected: { valid: false; code: string; reason: string };
      }[];
    };
    expect(doc.negative.length).toBeGreaterThanOrEqual(8);
    for (const v of doc.negative) {
      const clock = createFakeClock(v.verifyAt * 1000);
      const verifier = createVerifier({
        resolveKey: (k) => (doc.keys[k] ? key(doc.keys[k].publicKeyPem) : null),
        nonceStore: createMemoryNonceStore({ clock }),
        clock,
        startedAt: v.verifyAt * 1000 - 600_000,
        requireProtocolVersion: true,
        authorities: [v.authority],
      });
      if (v.presentTwice) expect((await verifier.verify(v.request)).ok, v.name).toBe(true);
      const r = await verifier.verify(v.request);
      expect(r.ok, v.name).toBe(false);
      expect(r.ok ? null : r.code, v.name).toBe(v.expected.code);
      expect(r.ok ? null : r.reason, v.name).toBe(v.expected.reason);
    }
  });

  it('signed tree heads: the valid one verifies with its key, the forged ones do not', () => {
    const doc = read('vectors/audit.json') as {
      keys: Record<string, { publicKeyPem: string }>;
      signedTreeHeads: { name: string; keyid: string; sth: never; valid: boolean }[];
    };
    expect(doc.signedTreeHeads.map((h) => h.valid)).toEqual([true, false, false]);
    for (const h of doc.signedTreeHeads)
      expect(verifyTreeHead(h.sth, key(doc.keys[h.keyid]!.publicKeyPem)), h.name).toBe(h.valid);
  });

  it('certificate chains: valid and broken ones judged as the vectors say', async () => {
    const doc = read('vectors/certificates.json') as {
      at: number;
      root: string;
      vectors: { name: string; chain: string[]; valid: boolean; reason?: string }[];
    };
    expect(doc.vectors.filter((v) => !v.valid).length).toBeGreaterThanOrEqual(4);
    for (const v of doc.vectors) {
      const r = await verifyChain(v.chain, { root: doc.root, clock: createFakeClock(doc.at * 1000) });
      expect(r.ok, v.name).toBe(v.valid);
      if (!r.ok) expect(r.error.reason, v.name).toBe(v.reason);
    }
  });

  it('SM3 digests (the standard examples among them) and SM2 signatures', () => {
    const doc = read('vectors/sm2.json') as {
      digests: { message: string; sm3Hex: string }[];
      key: { publicKeyHex: string };
      signatures: { message: string; signatureHex: string; valid: boolean }[];
    };
    const utf8 = (t: string) => new TextEncoder().encode(t);
    const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
    // GB/T 32905-2016 Appendix A: SM3("abc") and SM3("abcd" × 16).
    expect(doc.digests[0]!.sm3Hex).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    expect(doc.digests[1]!.sm3Hex).toBe('debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
    for (const d of doc.digests) expect(hexOf(sm2Profile.hash(utf8(d.message)))).toBe(d.sm3Hex);
    const pub = sm2Profile.importPublicKey(doc.key.publicKeyHex);
    for (const s of doc.signatures)
      expect(sm2Profile.verify(utf8(s.message), new Uint8Array(Buffer.from(s.signatureHex, 'hex')), pub)).toBe(s.valid);
  });

  it('delegation JWS: the valid one verifies, the altered one does not', async () => {
    const doc = read('vectors/delegations.json') as {
      keys: Record<string, { publicKeyPem: string }>;
      at: number;
      vectors: { token: string; valid: boolean }[];
    };
    for (const v of doc.vectors) {
      const r = await verifyDelegation(v.token, {
        parentPublicKey: key(doc.keys.CPN!.publicKeyPem),
        childPublicKey: key(doc.keys['CPN.51']!.publicKeyPem),
        clock: createFakeClock(doc.at * 1000),
      });
      expect(r.ok).toBe(v.valid);
    }
  });

  it('audit log: leaf hashes, inclusion and consistency proofs', () => {
    const doc = read('vectors/audit.json') as {
      entries: { entry: never; leafHash: string }[];
      inclusion: { index: number; treeSize: number; leafHash: string; proof: string[]; root: string }[];
      consistency: { first: number; second: number; firstRoot: string; secondRoot: string; proof: string[] }[];
    };
    const hash = ed25519Profile.hash;
    for (const e of doc.entries) expect(Buffer.from(entryLeafHash(hash, e.entry)).toString('base64')).toBe(e.leafHash);
    for (const p of doc.inclusion) {
      expect(
        verifyInclusion(hash, {
          index: p.index,
          treeSize: p.treeSize,
          leafHash: bytes(p.leafHash),
          proof: p.proof.map(bytes),
          root: bytes(p.root),
        }),
      ).toBe(true);
      if (p.proof.length > 0)
        expect(
          verifyInclusion(hash, {
            index: p.index,
            treeSize: p.treeSize,
            leafHash: bytes(p.leafHash),
            proof: p.proof.slice(1).map(bytes),
            root: bytes(p.root),
          }),
        ).toBe(false);
    }
    for (const c of doc.consistency)
      expect(
        verifyConsistency(hash, {
          first: c.first,
          second: c.second,
          firstRoot: bytes(c.firstRoot),
          secondRoot: bytes(c.secondRoot),
          proof: c.proof.map(bytes),
        }),
      ).toBe(true);
  });

  it('every identifier record and resolution answer in the vectors parses with the @cpnet/protocol schemas', () => {
    const records: unknown[] = [];
    const answers: unknown[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (typeof v !== 'object' || v === null) return;
      for (const [k, child] of Object.entries(v)) {
        if (k === 'record') records.push(child);
        if (k === 'records' && Array.isArray(child)) records.push(...(child as unknown[]));
        walk(child);
      }
    };
    for (const name of ['identifiers', 'signatures', 'delegations', 'audit', 'answers'])
      walk(read(`vectors/${name}.json`));
    const doc = read('vectors/answers.json') as { answers: { answer: object; signature: string }[] };
    for (const a of doc.answers) answers.push({ ...a.answer, signature: a.signature });
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      const parsed = IdentifierRecord.safeParse(r);
      expect(parsed.success, `${JSON.stringify(r)}: ${parsed.error?.message}`).toBe(true);
    }
    for (const a of answers) {
      const parsed = ResolutionAnswer.safeParse(a);
      expect(parsed.success, parsed.error?.message).toBe(true);
    }
  });

  it('signed answers and handshake tokens', async () => {
    const doc = read('vectors/answers.json') as {
      keys: Record<string, { publicKeyPem: string }>;
      answers: { keyid: string; answer: unknown; signature: string }[];
      handshakeTokens: { keyid: string; audience: string; namespace: string; at: number; token: string }[];
    };
    for (const a of doc.answers) {
      expect(
        (
          await verifyAnswer(
            { answer: a.answer, signature: a.signature },
            { keyid: a.keyid, publicKey: key(doc.keys[a.keyid]!.publicKeyPem) },
          )
        ).ok,
      ).toBe(true);
      expect(
        (
          await verifyAnswer(
            { answer: { ...(a.answer as object), authoritative: false }, signature: a.signature },
            { keyid: a.keyid, publicKey: key(doc.keys[a.keyid]!.publicKeyPem) },
          )
        ).ok,
      ).toBe(false);
    }
    for (const t of doc.handshakeTokens) {
      const clock = createFakeClock(t.at * 1000 + 1000);
      const r = await verifyHandshakeToken(t.token, {
        publicKey: key(doc.keys[t.keyid]!.publicKeyPem),
        audience: t.audience,
        namespace: t.namespace,
        clock,
        nonceStore: createMemoryNonceStore({ clock }),
      });
      expect(r.ok, JSON.stringify(r)).toBe(true);
    }
  });
});
