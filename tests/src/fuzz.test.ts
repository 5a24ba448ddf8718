import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHeaders, createClient, type Signer } from '@cpnet/client';
import { PROTOCOL_HEADER } from '@cpnet/protocol';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';
import { describeRequest, requestsFor, routesOf, type Caller, type FuzzRequest } from './fuzz/requests.ts';
import type { SchemaContext } from './fuzz/schema-arbitrary.ts';

// Issue 17, standing test: every route of docs/openapi.json, fed valid-but-hostile and invalid requests from
// arbitraries built from its JSON Schemas, never answers ≥ 500, always answers errors as { error: { code, message } },
// and leaves both nodes alive. CPNET_FUZZ_RUNS (per route) and CPNET_FUZZ_SEED run it longer or differently.
const RUNS = Number(process.env.CPNET_FUZZ_RUNS ?? 100);
const SEED = Number(process.env.CPNET_FUZZ_SEED ?? 20261204);

const doc = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as Parameters<
  typeof routesOf
>[0];
const routes = routesOf(doc);

let nodes: [TestNode, TestNode];
// Statuses per route, printed with CPNET_FUZZ_STATS=1: how far past authentication and validation the fuzz reaches.
const stats = new Map<string, Record<number, number>>();
const tokens = new Map<string, string>();
let ctx: SchemaContext;

async function tokenFor(n: TestNode, id: string, role: 'tenant' | 'operator'): Promise<string> {
  const created = await n.self.createAccount({ id, name: `fuzz ${role}`, role, password: 'pass-word-1' });
  if (!created.ok) throw new Error(created.error.message);
  const t = await n.anon.token({ account: id, password: 'pass-word-1' });
  if (!t.ok) throw new Error(t.error.message);
  return t.value.token;
}

/** Names of real records at a node (an identifier, a job, the applications it holds), so path parameters can hit them. */
async function recordsAt(n: TestNode, tenantToken: string): Promise<string[]> {
  const ids: string[] = [];
  const registered = await n.self.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] });
  if (registered.ok) ids.push(registered.value.id);
  const tenant = createClient({ baseUrl: n.url, token: tenantToken });
  const template = { demand: { cpuCores: 1, memoryGib: 1 }, durationHours: 1 };
  const job = await tenant.request<{ id: string }>({ method: 'POST', path: '/cpn/v1/jobs', body: { template } });
  if (job.ok) ids.push(job.value.id);
  const applications = await n.self.applications();
  if (applications.ok) ids.push(...applications.value.items.map((a) => a.id));
  return ids;
}

beforeAll(async () => {
  const national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true });
  const dir = tempDir();
  const regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: dir,
    applicationFile: applicationFile(dir),
  });
  nodes = [national, regional];
  await eventually(async () => (await lifecycleOf(regional)) === 'online', 30_000);
  for (const [i, n] of nodes.entries()) {
    tokens.set(`${i}:tenant`, await tokenFor(n, 'fuzz-tenant', 'tenant'));
    tokens.set(`${i}:operator`, await tokenFor(n, 'fuzz-operator', 'operator'));
  }
  const records = await Promise.all(nodes.map((n, i) => recordsAt(n, tokens.get(`${i}:tenant`)!)));
  ctx = {
    schemas: doc.components.schemas,
    known: ['CPN', 'CPN.51', 'CPN.44', 'CPN.51/fuzz', 'fuzz-tenant', 'fuzz-operator', national.url, ...records.flat()],
    records: records.flat(),
  };
}, 60_000);
afterAll(async () => {
  if (process.env.CPNET_FUZZ_STATS === '1')
    for (const [route, counts] of stats) console.log(route, JSON.stringify(counts));
  for (const n of [...(nodes ?? [])].reverse()) await n.stop();
  cleanup();
});

function signerOf(n: TestNode): Signer {
  return { keyid: n.node.context.config.code, privateKey: n.node.context.identity.keys.privateKey };
}

/** The caller's credentials as headers: the target's own key, the other node's key, a person's token, or garbage. */
function credentials(r: FuzzRequest, url: string, headers: Record<string, string>): Record<string, string> {
  const target = nodes[r.node];
  const other = nodes[1 - r.node]!;
  const signed = (signer: Signer) =>
    buildHeaders(
      { baseUrl: target.url, signer },
      { method: r.method, path: r.target, url, headers, text: r.body, sign: true },
    );
  const by: Record<Caller, () => Record<string, string>> = {
    none: () => headers,
    self: () => signed(signerOf(target)),
    peer: () => signed(signerOf(other)),
    tenant: () => ({ ...headers, authorization: `Bearer ${tokens.get(`${r.node}:tenant`)}` }),
    operator: () => ({ ...headers, authorization: `Bearer ${tokens.get(`${r.node}:operator`)}` }),
    'bogus-token': () => ({ ...headers, authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }),
    'bogus-signature': () => ({
      ...headers,
      'signature-input': `cpn=("@method" "@target-uri");created=${Math.floor(Date.now() / 1000)};keyid="CPN";tag="cpn"`,
      signature: 'cpn=:AAAA:',
    }),
  };
  return by[r.caller]();
}

async function send(r: FuzzRequest): Promise<{ status: number; text: string }> {
  const target = nodes[r.node];
  const url = new URL(r.target, target.url).toString();
  const base: Record<string, string> = { accept: 'application/json' };
  if (r.protocol !== undefined) base[PROTOCOL_HEADER] = r.protocol;
  if (r.body !== undefined) base['content-type'] = r.contentType ?? 'application/json';
  const headers = credentials(r, url, base);
  const res = await fetch(url, { method: r.method, headers, body: r.body, signal: AbortSignal.timeout(15_000) });
  return { status: res.status, text: await res.text() };
}

/** Why an answer is wrong, or undefined when it is fine: never ≥ 500, errors always `{ error: { code, message } }`. */
function verdict(status: number, text: string): string | undefined {
  if (status >= 500) return 'a server error';
  if (status < 400) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'an error that is not JSON';
  }
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof e?.code === 'string' && typeof e.message === 'string'
    ? undefined
    : 'an error without { error: { code, message } }';
}

describe(`HTTP fuzz from docs/openapi.json (${routes.length} routes × ${RUNS} runs, seed ${SEED})`, () => {
  for (const route of routes) {
    it(`${route.method} ${route.path}`, async () => {
      await fc.assert(
        fc.asyncProperty(requestsFor(route, ctx), async (r) => {
          const { status, text } = await send(r);
          const counts = stats.get(`${route.method} ${route.path}`) ?? {};
          counts[status] = (counts[status] ?? 0) + 1;
          stats.set(`${route.method} ${route.path}`, counts);
          const wrong = verdict(status, text);
          if (wrong) throw new Error(`${wrong}: ${describeRequest(r)} → ${status} ${text.slice(0, 500)}`);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });
  }

  it('methods the document does not declare on a path get an error body, never ≥ 500', async () => {
    const wrong: string[] = [];
    for (const path of Object.keys(doc.paths)) {
      const declared = Object.keys(doc.paths[path] ?? {}).map((m) => m.toUpperCase());
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !declared.includes(m))) {
        const url = `${nodes[0].url}${path.replace('{id}', 'CPN%2Fx')}`;
        const res = await fetch(url, {
          method,
          headers: { 'content-type': 'application/json' },
          body: method === 'GET' ? undefined : '{}',
        });
        const why = verdict(res.status, await res.text());
        if (why) wrong.push(`${method} ${path} → ${res.status}: ${why}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('both nodes still answer GET /cpn/v1/node with 200', async () => {
    for (const n of nodes) {
      const res = await fetch(`${n.url}/cpn/v1/node`);
      expect(res.status).toBe(200);
    }
    expect((await createClient({ baseUrl: nodes[1].url }).node()).ok).toBe(true);
  });
});
