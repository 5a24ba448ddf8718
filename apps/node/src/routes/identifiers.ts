import type { Request, Router } from 'express';
import { z } from 'zod';
import { isWithin, parseIdentifier } from '@cpnet/identifier';
import {
  CopyAnswer,
  CopyBatch,
  IdentifierRecord,
  PageQuery,
  Prefix,
  RecordPage,
  RegisterIdentifier,
  ResolutionAnswer,
  ROUTES,
  UpdateIdentifier,
} from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { authorize, type RouteDeps } from '../http/write-route.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import { listRecords, registerRecord, revokeRecord, storeCopies, updateRecord } from '../identifiers/registry.ts';
import { cpnPath, resolve } from '../identifiers/resolve.ts';

const BASE = `${ROUTES.identifiers}/`;
const ListQuery = PageQuery.extend({ prefix: Prefix.optional().describe('only records under this prefix') });

/** The identifier in the URL: raw `/` or `%2F`, decoded once; malformed is 400 naming the segment. */
function identifierParam(req: Request): { id: string; prefix: string } {
  const rawPath = req.originalUrl.split('?')[0] ?? '';
  let text: string;
  try {
    text = decodeURIComponent(rawPath.slice(BASE.length));
  } catch {
    fail('INVALID_IDENTIFIER', 'the identifier in the URL is not valid percent-encoding', 'id');
  }
  const parsed = parseIdentifier(text);
  if (!parsed.ok)
    fail(
      'INVALID_IDENTIFIER',
      `${parsed.error.segment}: ${parsed.error.message}; expected ${parsed.error.expected}`,
      parsed.error.segment,
    );
  return { id: parsed.value.id, prefix: parsed.value.prefix };
}

function pathHeader(req: Request): string[] {
  const r = cpnPath(req.headers['cpn-path']);
  if (!r.ok) fail('INVALID_PREFIX', r.message, 'cpn-path');
  return r.path;
}

/**
 * Why a copied record's owner is false, or null. A copy is owned by the prefix it was registered under, which lies
 * within its sender's: otherwise a child could hand a record to the parent (whose operator may edit its own records).
 */
function copyOwnerProblem(r: { id: string; owner: string }, at: { prefix: string; sender: string }): string | null {
  if (!isWithin(r.owner, at.sender))
    return `${r.id} claims owner ${r.owner}, outside the sender's prefix ${at.sender}; a copy's owner is its sender or below`;
  if (r.owner !== at.prefix) return `${r.id} claims owner ${r.owner}; a record is owned by its prefix ${at.prefix}`;
  return null;
}

const resource = (id: string, prefix: string) => ({ type: 'record' as const, prefix, id });

/** What `identifierRoutes` uses of the node. */
type IdentifierRoutesDeps = RouteDeps & Pick<NodeContext, 'cache' | 'clientFor' | 'hops' | 'outbox' | 'serials'>;

const route = defineRoute<IdentifierRoutesDeps>();

const ID_PARAM = {
  id: {
    description:
      'The identifier; its `/` is percent-encoded in the URL as `%2F` (`CPN.51%2FSV-1`). The raw-`/` form ' +
      '(`/cpn/v1/identifiers/CPN.51/SV-1`) is an alias the node answers the same.',
    example: 'CPN/ND-16Q',
  },
};
const ID_ERROR = { 404: 'no record with that identifier here or, for a resolution, anywhere it was forwarded' };
const RevokeBody = z.strictObject({ reason: z.string().max(2000).optional() });

/** Identifier registration (标识注册), update, revocation, listing, resolution (标识检索) and copies from children. */
export const IDENTIFIER_ROUTES: RouteTable<IdentifierRoutesDeps> = [
  route({
    operationId: 'listRecords',
    method: 'get',
    path: ROUTES.identifiers,
    tag: 'identifiers',
    summary: 'List the records held here, in identifier order (paged)',
    description:
      'Filter by `prefix` (records under it). `next` is the identifier of the last record of the page: pass it back ' +
      'as `cursor` with the same filter for the following page; null on the last page.',
    auth: 'none',
    query: ListQuery,
    responses: { 200: { description: 'A page of records', schema: RecordPage } },
    handle: async ({ env, query }) => [200, await listRecords(env, query)],
  }),
  route({
    operationId: 'registerIdentifier',
    method: 'post',
    path: ROUTES.identifiers,
    tag: 'identifiers',
    summary: 'Register an identifier under this node (标识注册)',
    description:
      'Validated against `RegisterIdentifier` before the policy is asked (conformance check `strict-schema`). ' +
      'An `Idempotency-Key` is answered once.',
    auth: 'required',
    body: RegisterIdentifier,
    responses: { 201: { description: 'Registered', schema: IdentifierRecord } },
    errors: { 403: 'the policy refuses, or this node is suspended or revoked', 409: 'the identifier exists' },
    access: { action: 'create', resource: 'record', rule: 'the policy: `create` on a record under `prefix`' },
    audit: 'create',
    nonceInOwnCommit:
      'registerRecord writes the serial, the record, its copy upward (an outbox row), the audit entry, the ' +
      'idempotency key and the identifier.registered event in one unit of work; the event is streamed and the ' +
      'outbox kicked only after that commit, which holds the nonce (or follows its commit). Lost in a crash, the ' +
      'nonce was lost with every row of the request, and no answer had left: a replay registers once, as the ' +
      'original would have.',
    authorize: ({ env, caller, body }) => ({
      principal: caller!.principal,
      action: 'create',
      resource: { type: 'record', prefix: body.prefix ?? env.config.code, owner: caller!.principal.id },
    }),
    handle: async ({ env, caller, body, requestId, idempotency }) => {
      if (env.state.lifecycle === 'suspended' || env.state.lifecycle === 'revoked')
        fail('FORBIDDEN', `${env.config.code} is ${env.state.lifecycle}; it registers nothing`);
      const record = await registerRecord(env, body, {
        audit: { who: caller!.who, action: 'create', requestId },
        idempotency,
      });
      return [201, record];
    },
  }),
  route({
    operationId: 'storeCopies',
    method: 'post',
    path: ROUTES.copies,
    tag: 'identifiers',
    summary: 'Node to node: records copied upward by a child',
    auth: 'required',
    body: CopyBatch,
    responses: { 200: { description: 'Stored (duplicates of held versions are skipped)', schema: CopyAnswer } },
    errors: { 403: "a record outside the sender's prefix, or this node's own" },
    access: {
      action: 'create',
      resource: 'record',
      rule: "a child node, for records owned by their prefix within the child's; the policy: `create` on each",
    },
    audit: 'copy',
    handle: async ({ env, caller, body: batch, requestId }) => {
      for (const r of batch.records) {
        const p = parseIdentifier(r.id);
        if (!p.ok) fail('INVALID_IDENTIFIER', `${r.id}: ${p.error.message}; expected ${p.error.expected}`, 'records');
        const prefix = p.value.prefix;
        const owner = copyOwnerProblem(r, { prefix, sender: caller!.principal.prefix });
        if (owner) fail('FORBIDDEN', owner, 'records');
        if (prefix === env.config.code)
          fail('FORBIDDEN', `${r.id} belongs to ${env.config.code} itself; a copy cannot replace it`, 'records');
        await authorize(env, {
          request: { principal: caller!.principal, action: 'create', resource: resource(r.id, prefix) },
          requestId,
        });
      }
      const accepted = await storeCopies(env, batch.records as IdentifierRecord[], {
        who: caller!.who,
        action: 'copy',
        resource: `records:${batch.records.length}`,
        requestId,
      });
      return [200, { accepted: accepted.length }];
    },
  }),
  route({
    operationId: 'resolveIdentifier',
    method: 'get',
    path: `${ROUTES.identifiers}/{id}`,
    expressPath: `${BASE}*id`,
    tag: 'identifiers',
    summary: 'Resolve an identifier (标识检索)',
    description:
      'Answered from this node, its cache or by forwarding up or down the hierarchy; the answer is signed by the ' +
      'node that holds the record.',
    auth: 'none',
    pathParams: ID_PARAM,
    headers: [
      {
        name: 'cpn-path',
        description: 'Node to node: the prefixes a forwarded query already passed, comma-separated (at most 8)',
      },
    ],
    responses: { 200: { description: 'The signed answer', schema: ResolutionAnswer } },
    errors: { ...ID_ERROR, 503: 'the next hop does not answer and no copy is held here' },
    handle: async ({ env, req }) => {
      const { id, prefix } = identifierParam(req);
      return [200, await resolve(env, { id, prefix, path: pathHeader(req) })];
    },
  }),
  route({
    operationId: 'updateIdentifier',
    method: 'put',
    path: `${ROUTES.identifiers}/{id}`,
    expressPath: `${BASE}*id`,
    tag: 'identifiers',
    summary: 'Update a record: a new version (optimistic version check)',
    auth: 'required',
    pathParams: ID_PARAM,
    body: UpdateIdentifier,
    responses: { 200: { description: 'The new version', schema: IdentifierRecord } },
    errors: { ...ID_ERROR, 409: 'the version is not the current one, or the record is revoked' },
    access: { action: 'update', resource: 'record', rule: 'the policy: `update` on the record' },
    audit: 'update',
    authorize: ({ req, caller }) => {
      const { id, prefix } = identifierParam(req);
      return { principal: caller!.principal, action: 'update', resource: resource(id, prefix) };
    },
    handle: async ({ env, req, caller, body: update, requestId }) => {
      const { id } = identifierParam(req);
      const record = await updateRecord(env, { id, update, audit: { who: caller!.who, action: 'update', requestId } });
      return [200, record];
    },
  }),
  route({
    operationId: 'revokeIdentifier',
    method: 'delete',
    path: `${ROUTES.identifiers}/{id}`,
    expressPath: `${BASE}*id`,
    tag: 'identifiers',
    summary: 'Revoke a record',
    auth: 'required',
    pathParams: ID_PARAM,
    body: RevokeBody,
    bodyOptional: true,
    responses: { 200: { description: 'The revoked record', schema: IdentifierRecord } },
    errors: { ...ID_ERROR, 409: 'the record is already revoked' },
    access: { action: 'delete', resource: 'record', rule: 'the policy: `delete` on the record' },
    audit: 'revoke',
    authorize: ({ req, caller }) => {
      const { id, prefix } = identifierParam(req);
      return { principal: caller!.principal, action: 'delete', resource: resource(id, prefix) };
    },
    handle: async ({ env, req, caller, requestId }) => {
      const { id } = identifierParam(req);
      return [200, await revokeRecord(env, id, { who: caller!.who, action: 'revoke', requestId })];
    },
  }),
];

/** Mounts the identifier area. */
export function identifierRoutes(ctx: IdentifierRoutesDeps): Router {
  return mountTable(ctx, IDENTIFIER_ROUTES);
}
