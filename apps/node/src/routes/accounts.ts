import { Router } from 'express';
import { CreateAccount, ROUTES, TokenRequest } from '@cpnet/protocol';
import {
  hashPassword,
  issueApiToken,
  verifyPassword,
  API_TOKEN_TTL_S,
  PASSWORD_KDF,
  type PersonRole,
} from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { parseWith } from '../http/body.ts';
import { audited, writeRoute } from '../http/write-route.ts';
import { authenticate, hasCredentials } from '../http/authenticate.ts';
import { BoundedQueue, WindowLimiter } from '../http/rate-limit.ts';

/**
 * What an unknown account's password is checked against: the same scrypt cost as a real hash (the hash bytes match no
 * password anyone could type, and the answer is refused anyway).
 */
const DUMMY_HASH = [
  'scrypt',
  PASSWORD_KDF.N,
  PASSWORD_KDF.r,
  PASSWORD_KDF.p,
  'AAAAAAAAAAAAAAAAAAAAAA',
  'A'.repeat(43),
].join('$');

/** What `accountRoutes` uses of the node. */
type AccountRoutesDeps = Pick<
  NodeContext,
  'accounts' | 'audit' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'nonceStore' | 'state'
>;

/** Accounts for people (reviewer, operator, tenant, viewer) and the password → API token exchange. */
export function accountRoutes(ctx: AccountRoutesDeps): Router {
  const router = Router();
  const limits = ctx.config.limits.login;
  const byAccount = new WindowLimiter({
    limit: limits.failuresPerAccount,
    windowMs: limits.windowMs,
    clock: ctx.deps.clock,
  });
  const byAddress = new WindowLimiter({
    limit: limits.failuresPerAddress,
    windowMs: limits.windowMs,
    clock: ctx.deps.clock,
  });
  const hashing = new BoundedQueue({ concurrency: limits.hashConcurrency, queue: limits.hashQueue });
  // Who has which account and role is for this node's operators (and the node itself), not for anyone asking.
  router.get(ROUTES.accounts, async (req, res) => {
    if (!hasCredentials(req))
      fail('UNAUTHENTICATED', "the account list needs an operator's token or this node's signature");
    const p = (await authenticate(ctx, req, { raw: Buffer.alloc(0) })).principal;
    if (!((p.kind === 'node' && p.id === ctx.config.code) || (p.kind === 'person' && p.role === 'operator')))
      fail('FORBIDDEN', "the account list is for this node's operators");
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
      async (req, { body, requestId }) => {
        const input = parseWith(TokenRequest, body);
        const accountKey = input.account;
        const addressKey = req.socket.remoteAddress ?? '-';
        byAccount.check(accountKey, `failed logins for account ${input.account}`);
        byAddress.check(addressKey, 'failed logins from this address');
        const account = await ctx.db.accounts.byId(input.account);
        // Every attempt costs one hash, known account or not, active or not: the answer's time tells nothing.
        const matched = await hashing.run(accountKey, () =>
          verifyPassword(input.password, account?.passwordHash ?? DUMMY_HASH),
        );
        const ok = matched && account !== null && account.status === 'active';
        if (!ok || !account) {
          byAccount.hit(accountKey);
          byAddress.hit(addressKey);
          fail('UNAUTHENTICATED', 'unknown account or wrong password');
        }
        byAccount.reset(accountKey);
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
