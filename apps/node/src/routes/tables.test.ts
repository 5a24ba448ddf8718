import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { cryptoRandomBytes } from '@cpnet/security';
import { systemClock } from '@cpnet/kernel/system';
import { createClient, type NodeClient } from '@cpnet/client';
import { createNode, type CpnNode } from '../create-node.ts';
import { expressPath } from '../http/route-table.ts';
import { openApiDocument, routeSpecs } from '../openapi.ts';

// Issue 18: one route table per area drives both Express and docs/openapi.json. These checks hold the two together:
// what Express answers is exactly what the tables list, and nothing registers a route beside them.

let node: CpnNode;
let dir: string;
let url: string;
let signed: NodeClient;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cpnet-tables-'));
  node = await createNode(
    { role: 'national', code: 'CPN', port: 0, dataDir: dir },
    { clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes },
  );
  url = await node.listen();
  signed = createClient({ baseUrl: url, signer: { keyid: 'CPN', privateKey: node.context.identity.keys.privateKey } });
});
afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every `METHOD path` Express has a route for, walking nested routers. */
function mounted(stack: Layer[]): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path}`);
    return layer.handle?.stack ? mounted(layer.handle.stack) : [];
  });
}

const SRC = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

describe('route tables', () => {
  it('Express mounts exactly the rows of the tables, and the document lists the same operations', () => {
    const router = (node.app as unknown as { router: { stack: Layer[] } }).router;
    const express = mounted(router.stack).sort();
    const rows = routeSpecs()
      .map((s) => `${s.method.toUpperCase()} ${expressPath(s)}`)
      .sort();
    expect(express).toEqual(rows);
    const doc = openApiDocument() as { paths: Record<string, Record<string, { operationId: string }>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(
      routeSpecs()
        .map((s) => `${s.method.toUpperCase()} ${s.path}`)
        .sort(),
    );
    expect(documented.length).toBeGreaterThanOrEqual(46);
  });

  it('every operation id is unique and every {param} of a path is declared', () => {
    const ids = routeSpecs().map((s) => s.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of routeSpecs()) {
      const params = [...s.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(Object.keys(s.pathParams ?? {}), s.operationId).toEqual(params);
    }
  });

  it('every row that takes credentials says who may call it, and every write names its audit kind', () => {
    for (const s of routeSpecs()) {
      if (s.auth !== 'none') expect(s.access?.rule, `${s.operationId}: access.rule`).toBeTruthy();
      if (s.method !== 'get') expect(s.audit, `${s.operationId}: audit`).toBeTruthy();
    }
  });

  it("only reviewed routes let a signed request's nonce ride their own commit, each with its crash argument", () => {
    // Reviewed (issue 26, apps/node/README.md "Replay protection across a crash"): each handler writes only rows of
    // this node's database, in one unit of work, and streams or kicks anything only after that commit. Adding a route
    // here is a security review: a handler that calls another node or streams before its commit must not be listed.
    const REVIEWED = ['registerCluster', 'registerIdentifier', 'registerProvider'];
    const declared = routeSpecs().filter((s) => s.nonceInOwnCommit !== undefined);
    expect(declared.map((s) => s.operationId).sort()).toEqual(REVIEWED);
    for (const s of declared) expect(s.nonceInOwnCommit!.length, s.operationId).toBeGreaterThan(80);
  });

  it('no module registers a route beside the tables (no router.get/post/put/delete outside route-table.ts)', () => {
    const offenders = sources().filter(
      (f) =>
        !f.endsWith(path.join('http', 'route-table.ts')) &&
        /\b(router|app)\.(get|post|put|delete|patch)\(/.test(readFileSync(f, 'utf8')),
    );
    expect(offenders.map((f) => path.relative(SRC, f))).toEqual([]);
  });

  it('a write is validated before it is authorised, node-to-node scheduling included', async () => {
    // The node signing to itself is neither its parent nor its child: a valid placement is 403, an invalid one 400.
    const bad = await signed.request({ method: 'POST', path: '/cpn/v1/scheduling/placements', body: { nope: 1 } });
    expect(bad.ok ? null : bad.error).toMatchObject({ status: 400, code: 'SCHEMA_VIOLATION' });
    const metering = { node: 'CPN', at: '2026-12-04T00:00:00.000Z', byTenant: {}, byProvider: {} };
    const peerOnly = await signed.request({ method: 'POST', path: '/cpn/v1/scheduling/metering', body: metering });
    expect(peerOnly.ok ? null : peerOnly.error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });

  it('cpn-protocol: N±1 accepted, 1.7 refused on writes and reads, no header fine on a read', async () => {
    const body = { kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] };
    const post = (version: string) =>
      signed.request({ method: 'POST', path: '/cpn/v1/identifiers', body, headers: { 'cpn-protocol': version } });
    expect((await post('1.1')).status).toBe(201);
    const far = await post('1.7');
    expect(far.ok ? null : far.error).toMatchObject({
      status: 400,
      code: 'UNSUPPORTED_VERSION',
      field: 'cpn-protocol',
    });
    const read = await fetch(`${url}/cpn/v1/node`, { headers: { 'cpn-protocol': '1.7' } });
    expect(read.status).toBe(400);
    expect((await fetch(`${url}/cpn/v1/node`)).status).toBe(200);
  });
});
