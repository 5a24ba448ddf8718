import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pino } from 'pino';
import { cryptoRandomBytes } from '@cpnet/security';
import { systemClock } from '@cpnet/kernel/system';
import { createClient, type NodeClient } from '@cpnet/client';
import { createNode, type CpnNode } from '../create-node.ts';
import { errorHandler, fail } from '../http/http-error.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import type { RouteDeps } from '../http/write-route.ts';

// Issue 26: a signed request's nonce is durable before its handler runs, unless the route declares that the nonce
// rides its own commit (`nonceInOwnCommit`). The handlers below look, on a second connection to the node's SQLite
// file, whether their request's nonce is committed at the moment they run, and the answers report it.
// (It lives beside the store because it reads the database file directly.)

let node: CpnNode;
let dir: string;
let server: Server;
let signed: NodeClient;
let other: Database.Database;

/** True when the caller's nonce is committed (a second connection sees only committed rows). */
const committed = (keyid: string, nonce: string | undefined) =>
  other.prepare('SELECT 1 FROM "SeenNonce" WHERE "keyid" = ? AND "nonce" = ?').get(keyid, nonce) !== undefined;

const route = defineRoute<RouteDeps>();
const Body = z.strictObject({ n: z.number().int() });
const Durable = z.strictObject({ durable: z.boolean() });
const TABLE: RouteTable<RouteDeps> = [
  route({
    operationId: 'defaultWrite',
    method: 'post',
    path: '/test/default',
    tag: 'test',
    summary: 'a write that keeps the default',
    auth: 'required',
    body: Body,
    responses: { 200: { description: 'whether the nonce was durable when the handler ran', schema: Durable } },
    handle: ({ caller }) => [200, { durable: committed(caller!.who, caller!.nonce) }],
  }),
  route({
    operationId: 'defaultRead',
    method: 'get',
    path: '/test/default',
    tag: 'test',
    summary: 'a signed read that keeps the default',
    auth: 'required',
    responses: { 200: { description: 'whether the nonce was durable when the handler ran', schema: Durable } },
    handle: ({ caller }) => [200, { durable: committed(caller!.who, caller!.nonce) }],
  }),
  route({
    operationId: 'ownCommitWrite',
    method: 'post',
    path: '/test/own-commit',
    tag: 'test',
    summary: 'a write whose nonce rides its own commit',
    auth: 'required',
    body: Body,
    nonceInOwnCommit: 'test: the handler writes one row and has no other effect',
    responses: { 200: { description: 'whether the nonce was durable when the handler ran', schema: Durable } },
    handle: async ({ env, caller, body }) => {
      const durable = committed(caller!.who, caller!.nonce);
      // A refusal before any write: nothing else would ask for the nonce's commit.
      if (body.n < 0) fail('FORBIDDEN', 'refused before any write', 'n');
      await env.db.write(() => env.db.settings.put('test.own-commit', String(body.n)));
      return [200, { durable }];
    },
  }),
];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cpnet-nonce-order-'));
  node = await createNode(
    { role: 'national', code: 'CPN', port: 0, dataDir: dir },
    { clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes },
  );
  other = new Database(path.join(dir, 'node.db'), { readonly: true });
  const app = express();
  app.use(mountTable(node.context, TABLE));
  app.use(errorHandler(node.context.deps.logger));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  signed = createClient({ baseUrl, signer: { keyid: 'CPN', privateKey: node.context.identity.keys.privateKey } });
}, 30_000);
afterAll(async () => {
  await new Promise((r) => server.close(r));
  other.close();
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a signed request's nonce and its handler", () => {
  it('a route that keeps the default runs its handler only once the nonce is committed (write and read)', async () => {
    for (let n = 0; n < 5; n++) {
      const w = await signed.request<{ durable: boolean }>({ method: 'POST', path: '/test/default', body: { n } });
      expect(w.ok && w.value).toEqual({ durable: true });
      const r = await signed.request<{ durable: boolean }>({ method: 'GET', path: '/test/default', sign: true });
      expect(r.ok ? r.value : r).toEqual({ durable: true });
    }
  });

  it('a route that declares nonceInOwnCommit runs before the commit; its answers, refusals too, wait for it', async () => {
    const answers = await Promise.all(
      [1, 2, 3].map((n) =>
        signed.request<{ durable: boolean }>({ method: 'POST', path: '/test/own-commit', body: { n } }),
      ),
    );
    // The handler ran before the nonce was committed (no commit of its own), and the answer came after it.
    for (const a of answers) expect(a.ok && a.value).toEqual({ durable: false });
    const n0 = other.prepare('SELECT COUNT(*) AS n FROM "SeenNonce"').get() as { n: number };
    const refused = await signed.request({ method: 'POST', path: '/test/own-commit', body: { n: -1 } });
    expect(refused.status).toBe(403);
    const n1 = other.prepare('SELECT COUNT(*) AS n FROM "SeenNonce"').get() as { n: number };
    expect(n1.n).toBe(n0.n + 1);
  });
});
