import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519Profile, entryLeafHash, verifyConsistency, verifyInclusion, type AuditEntry } from '@cpnet/security';
import { cleanup, startTestNode, type TestNode } from './nodes.ts';

// Issue 18: routes that serve audit inclusion and consistency proofs, so the audit vectors' algorithms can be used
// against a live node: every proof verifies against the root of the node's signed tree head.
let national: TestNode;
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN' });
  // Audited writes: a few identifiers registered by the node itself.
  for (let i = 0; i < 5; i++) {
    const r = await national.self.register({
      kind: 'SV',
      values: [{ index: 1, type: 'URL', data: `https://proof-${i}.example.cn`, ttl: 0 }],
    });
    expect(r.ok).toBe(true);
  }
}, 60_000);

afterAll(async () => {
  await national?.stop();
  cleanup();
});

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const r = await fetch(`${national.url}${path}`, { headers: { 'cpn-protocol': '1.0' } });
  return { status: r.status, body: (await r.json()) as T };
}

describe('audit proofs from a live node', () => {
  it('every entry has an inclusion proof that verifies against the signed tree head', async () => {
    const head = await get<{ treeSize: number; rootHash: string }>('/cpn/v1/audit/head');
    expect(head.body.treeSize).toBeGreaterThanOrEqual(5);
    for (let index = 0; index < head.body.treeSize; index++) {
      const p = await get<{ index: number; treeSize: number; leafHash: string; proof: string[]; root: string }>(
        `/cpn/v1/audit/proofs/inclusion?index=${index}&treeSize=${head.body.treeSize}`,
      );
      expect(p.status).toBe(200);
      expect(p.body.root).toBe(head.body.rootHash);
      const claim = {
        ...p.body,
        leafHash: bytes(p.body.leafHash),
        proof: p.body.proof.map(bytes),
        root: bytes(p.body.root),
      };
      expect(verifyInclusion(ed25519Profile.hash, claim), `entry ${index}`).toBe(true);
      expect(verifyInclusion(ed25519Profile.hash, { ...claim, index: (index + 1) % head.body.treeSize })).toBe(false);
    }
  });

  it('the entries live in the table only (not in memory), and each stored row is the leaf its proof proves', async () => {
    const ctx = national.node.context;
    // Issue 26: the node's tree no longer keeps a copy of every entry of its life in memory.
    expect(ctx.audit.log.entries()).toHaveLength(0);
    const head = await get<{ treeSize: number }>('/cpn/v1/audit/head');
    const rows = await ctx.db.audit.entries();
    expect(rows.length).toBeGreaterThanOrEqual(head.body.treeSize);
    for (let index = 0; index < head.body.treeSize; index++) {
      const p = await get<{ leafHash: string }>(`/cpn/v1/audit/proofs/inclusion?index=${index}`);
      const stored = entryLeafHash(ed25519Profile.hash, JSON.parse(rows[index]!) as AuditEntry);
      expect(Buffer.from(stored).toString('base64'), `entry ${index}`).toBe(p.body.leafHash);
    }
  });

  it('every earlier tree is consistent with the current one', async () => {
    const head = await get<{ treeSize: number; rootHash: string }>('/cpn/v1/audit/head');
    for (let first = 1; first <= head.body.treeSize; first++) {
      const p = await get<{ first: number; second: number; firstRoot: string; secondRoot: string; proof: string[] }>(
        `/cpn/v1/audit/proofs/consistency?first=${first}&second=${head.body.treeSize}`,
      );
      expect(p.status).toBe(200);
      expect(p.body.secondRoot).toBe(head.body.rootHash);
      const claim = {
        ...p.body,
        firstRoot: bytes(p.body.firstRoot),
        secondRoot: bytes(p.body.secondRoot),
        proof: p.body.proof.map(bytes),
      };
      expect(verifyConsistency(ed25519Profile.hash, claim), `first ${first}`).toBe(true);
    }
  });

  it('out-of-range or malformed parameters are 400 naming the parameter', async () => {
    const size = (await get<{ treeSize: number }>('/cpn/v1/audit/head')).body.treeSize;
    const cases: [string, string][] = [
      [`/cpn/v1/audit/proofs/inclusion?index=${size}`, 'index'],
      [`/cpn/v1/audit/proofs/inclusion?index=0&treeSize=${size + 100}`, 'treeSize'],
      ['/cpn/v1/audit/proofs/inclusion?index=-1', 'index'],
      ['/cpn/v1/audit/proofs/inclusion?index=x', 'index'],
      ['/cpn/v1/audit/proofs/consistency?first=0', 'first'],
      [`/cpn/v1/audit/proofs/consistency?first=2&second=1`, 'first'],
    ];
    for (const [path, field] of cases) {
      const r = await get<{ error: { code: string; field?: string; message: string } }>(path);
      expect(r.status, path).toBe(400);
      expect(r.body.error.field ?? r.body.error.message, path).toContain(field);
    }
  });
});
