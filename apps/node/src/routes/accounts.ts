import { Router } from 'express';
import { CreateAccount, ROUTES, TokenRequest } from '@cpnet/protocol';
import { hashPassword, issueApiToken, verifyPassword, API_TOKEN_TTL_S, type PersonRole } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { parseWith } from '../http/body.ts';
import { audited, writeRoute } from '../http/write-route.ts';

/** What `accountRoutes` uses of the node. */
type AccountRoutesDeps = Pick<
  NodeContext,
  'accounts' | 'audit' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'nonceStore' | 'state'
>;

/** Accounts for people (reviewer, operator, tenant, viewer) and the password → API token exchange. */
export function accountRoutes(ctx: AccountRoutesDeps): Router {
  const router = Router();
  router.get(ROUTES.accounts, async (_req, res) => {
    const rows = await ctx.db.accounts.all();
    res.json({ items: rows.map((a) => ({ id: a.id, name: a.name, role: a.role, status: a.status })) });
  });
  router.post(
    ROUTES.accounts,
    writeRoute(ctx, async (_req, { caller, body, requestId }) => {
      const input = parseWith(CreateAccount, body);
      const p = caller.principal;
      const allowed = (p.kind === 'node' && p.id === ctx.config.code) || (p.kind === 'person' && p.role === 'operator');
      if (!allowed) fail('FORBIDDEN', "accounts are created by this node's operators (or the node itself)");
      if (await ctx.db.accounts.byId(input.id)) fail('CONFLICT', `account ${input.id} exists`, 'id');
      const passwordHash = await hashPassword(input.password, ctx.deps.randomBytes);
      await ctx.db.accounts.create({ id: input.id, name: input.name, role: input.role, passwordHash });
      ctx.accounts.set(input.id, { role: input.role, status: 'active' });
      await audited(ctx, { who: caller.who, action: 'create', resource: `account:${input.id}`, requestId });
      return [201, { id: input.id, role: input.role }];
    }),
  );
  router.post(
    ROUTES.tokens,
    writeRoute(
      ctx,
      async (_req, { body, requestId }) => {
        const input = parseWith(TokenRequest, body);
        const account = await ctx.db.accounts.byId(input.account);
        const ok =
          account !== null &&
          account.status === 'active' &&
          (await verifyPassword(input.password, account.passwordHash));
        if (!ok || !account) fail('UNAUTHENTICATED', 'unknown account or wrong password');
        const ttl = input.ttlSeconds ?? API_TOKEN_TTL_S.default;
        const token = await issueApiToken(
          { id: account.id, role: account.role as PersonRole, node: ctx.config.code, status: 'active' },
          {
            privateKey: ctx.identity.keys.privateKey,
            clock: ctx.deps.clock,
            ttlSeconds: ttl,
            randomBytes: ctx.deps.randomBytes,
          },
        );
        await audited(ctx, {
          who: `account:${account.id}`,
          action: 'token',
          resource: `account:${account.id}`,
          requestId,
        });
        return [201, { token, expiresIn: ttl }];
      },
      { anonymous: true },
    ),
  );
  return router;
}
