import { Router, type Request } from 'express';
import { z } from 'zod';
import { isWithin, parseIdentifier, parsePrefix } from '@cpnet/identifier';
import {
  CopyBatch,
  PageQuery,
  Prefix,
  RegisterIdentifier,
  ROUTES,
  UpdateIdentifier,
  type IdentifierRecord,
} from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { parseWith } from '../http/body.ts';
import { authorize, writeRoute, type RouteDeps } from '../http/write-route.ts';
import { listRecords, registerRecord, revokeRecord, storeCopies, updateRecord } from '../identifiers/registry.ts';
import { resolve } from '../identifiers/resolve.ts';

const BASE = `${ROUTES.identifiers}/`;
const ListQuery = PageQuery.extend({ prefix: Prefix.optional() });

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
  const raw = req.headers['cpn-path'];
  if (typeof raw !== 'string' || raw.trim() === '') return [];
  return raw.split(',').map((p) => {
    const r = parsePrefix(p.trim());
    if (!r.ok) fail('INVALID_PREFIX', `cpn-path: ${r.error.message}`, 'cpn-path');
    return r.value.prefix;
  });
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
type IdentifierRoutesDeps = RouteDeps & Pick<NodeContext, 'cache' | 'clientFor' | 'outbox' | 'serials'>;

/** Identifier registration (标识注册), update, revocation, listing, resolution (标识检索) and copies from children. */
export function identifierRoutes(ctx: IdentifierRoutesDeps): Router {
  const router = Router();
  router.get(ROUTES.identifiers, async (req, res) => {
    const q = parseWith(ListQuery, req.query);
    res.json(await listRecords(ctx, q));
  });
  router.post(
    ROUTES.identifiers,
    writeRoute(ctx, async (_req, { caller, body, requestId, idempotency }) => {
      const input = parseWith(RegisterIdentifier, body);
      const prefix = input.prefix ?? ctx.config.code;
      if (ctx.state.lifecycle === 'suspended' || ctx.state.lifecycle === 'revoked')
        fail('FORBIDDEN', `${ctx.config.code} is ${ctx.state.lifecycle}; it registers nothing`);
      await authorize(ctx, {
        request: {
          principal: caller.principal,
          action: 'create',
          resource: { type: 'record', prefix, owner: caller.principal.id },
        },
        requestId,
      });
      const record = await registerRecord(ctx, input, {
        audit: { who: caller.who, action: 'create', requestId },
        idempotency,
      });
      return [201, record];
    }),
  );
  router.post(
    ROUTES.copies,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const batch = parseWith(CopyBatch, body);
      for (const r of batch.records) {
        const p = parseIdentifier(r.id);
        if (!p.ok) fail('INVALID_IDENTIFIER', `${r.id}: ${p.error.message}; expected ${p.error.expected}`, 'records');
        const prefix = p.value.prefix;
        const owner = copyOwnerProblem(r, { prefix, sender: caller.principal.prefix });
        if (owner) fail('FORBIDDEN', owner, 'records');
        if (prefix === ctx.config.code)
          fail('FORBIDDEN', `${r.id} belongs to ${ctx.config.code} itself; a copy cannot replace it`, 'records');
        await authorize(ctx, {
          request: { principal: caller.principal, action: 'create', resource: resource(r.id, prefix) },
          requestId,
        });
      }
      const accepted = await storeCopies(ctx, batch.records as IdentifierRecord[], {
        who: caller.who,
        action: 'copy',
        resource: `records:${batch.records.length}`,
        requestId,
      });
      return [200, { accepted: accepted.length }];
    }),
  );
  router.get(`${BASE}*id`, async (req, res) => {
    const { id, prefix } = identifierParam(req);
    const answer = await resolve(ctx, { id, prefix, path: pathHeader(req) });
    res.json(answer);
  });
  router.put(
    `${BASE}*id`,
    writeRoute(ctx, async (req, { caller, body, requestId }) => {
      const { id, prefix } = identifierParam(req);
      const update = parseWith(UpdateIdentifier, body);
      await authorize(ctx, {
        request: { principal: caller.principal, action: 'update', resource: resource(id, prefix) },
        requestId,
      });
      const record = await updateRecord(ctx, { id, update, audit: { who: caller.who, action: 'update', requestId } });
      return [200, record];
    }),
  );
  router.delete(
    `${BASE}*id`,
    writeRoute(ctx, async (req, { caller, body, requestId }) => {
      const { id, prefix } = identifierParam(req);
      if (body !== undefined) parseWith(z.strictObject({ reason: z.string().max(2000).optional() }), body);
      await authorize(ctx, {
        request: { principal: caller.principal, action: 'delete', resource: resource(id, prefix) },
        requestId,
      });
      const record = await revokeRecord(ctx, id, { who: caller.who, action: 'revoke', requestId });
      return [200, record];
    }),
  );
  return router;
}
