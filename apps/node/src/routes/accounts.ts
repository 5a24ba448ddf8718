import type { Router } from 'express';
import {
  AccountCreated,
  AccountList,
  CreateAccount,
  DisableAccount,
  ROUTES,
  TokenAnswer,
  TokenRequest,
  ViewerTokenRequest,
} from '@cpnet/protocol';
import {
  hashPassword,
  issueApiToken,
  verifyPassword,
  API_TOKEN_TTL_S,
  PASSWORD_KDF,
  type PersonRole,
  type Principal,
} from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { audited, type RouteDeps } from '../http/write-route.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
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
type AccountRoutesDeps = RouteDeps & {
  /** The login throttles and the bounded password-hashing queue, one set per node. */
  readonly logins: {
    readonly byAccount: WindowLimiter;
    readonly byAddress: WindowLimiter;
    readonly hashing: BoundedQueue;
  };
};

const route = defineRoute<AccountRoutesDeps>();

/** This node itself, or one of its operators. */
const nodeOrOperator = (env: Pick<NodeContext, 'config'>, p: Principal) =>
  (p.kind === 'node' && p.id === env.config.code) || (p.kind === 'person' && p.role === 'operator');

/** Accounts for people (every PersonRole) and the password → API token exchange. */
export const ACCOUNT_ROUTES: RouteTable<AccountRoutesDeps> = [
  // Who has which account and role is for this node's operators (and the node itself), not for anyone asking.
  route({
    operationId: 'listAccounts',
    method: 'get',
    path: ROUTES.accounts,
    tag: 'accounts',
    summary: 'Accounts',
    auth: 'required',
    responses: { 200: { description: 'Every account (no password hashes)', schema: AccountList } },
    errors: { 403: 'the caller is neither this node nor one of its operators' },
    access: { rule: "this node's own signature or an operator's token" },
    handle: async ({ env, caller }) => {
      if (!nodeOrOperator(env, caller!.principal)) fail('FORBIDDEN', "the account list is for this node's operators");
      const rows = await env.db.accounts.all();
      return [200, { items: rows.map((a) => ({ id: a.id, name: a.name, role: a.role, status: a.status })) }];
    },
  }),
  route({
    operationId: 'createAccount',
    method: 'post',
    path: ROUTES.accounts,
    tag: 'accounts',
    summary: 'Create an account',
    auth: 'required',
    body: CreateAccount,
    responses: { 201: { description: 'Created', schema: AccountCreated } },
    errors: { 403: 'the caller is neither this node nor one of its operators', 409: 'the account exists' },
    access: { rule: "this node's own signature or an operator's token" },
    audit: 'create',
    audited: ({ body }) => ({ resource: `account:${body.id}` }),
    handle: async ({ env, caller, body: input }) => {
      if (!nodeOrOperator(env, caller!.principal))
        fail('FORBIDDEN', "accounts are created by this node's operators (or the node itself)");
      if (await env.db.accounts.byId(input.id)) fail('CONFLICT', `account ${input.id} exists`, 'id');
      const passwordHash = await hashPassword(input.password, env.deps.randomBytes);
      await env.db.accounts.create({
        id: input.id,
        name: input.name,
        role: input.role,
        passwordHash,
        agency: input.agency ?? null,
      });
      env.accounts.set(input.id, { role: input.role, status: 'active' });
      return [201, { id: input.id, role: input.role }];
    },
  }),
  route({
    operationId: 'disableAccount',
    method: 'post',
    path: `${ROUTES.accounts}/{id}/disable`,
    tag: 'accounts',
    summary: 'Disable an account: its tokens stop working at once and it cannot log in',
    auth: 'required',
    pathParams: { id: { description: 'The account id', example: 'officer-li' } },
    body: DisableAccount,
    responses: { 200: { description: 'The account, disabled', schema: AccountCreated } },
    errors: {
      403: 'the caller is neither this node nor one of its operators, or disables itself',
      404: 'no such account',
    },
    access: { rule: "this node's own signature or an operator's token" },
    audit: 'disable',
    audited: ({ req }) => ({ resource: `account:${String(req.params.id)}` }),
    handle: async ({ env, req, caller }) => {
      const id = String(req.params.id);
      const p = caller!.principal;
      if (!nodeOrOperator(env, p))
        fail('FORBIDDEN', "accounts are disabled by this node's operators (or the node itself)");
      if (p.kind === 'person' && p.id === id) fail('FORBIDDEN', 'an operator cannot disable its own account', 'id');
      const account = await env.db.accounts.byId(id);
      if (!account) fail('NOT_FOUND', `no account ${id} at ${env.config.code}`, 'id');
      await env.db.accounts.setStatus(id, 'suspended');
      env.accounts.set(id, { role: account.role, status: 'suspended' });
      return [200, { id, role: account.role }];
    },
  }),
  route({
    operationId: 'issueToken',
    method: 'post',
    path: ROUTES.tokens,
    tag: 'accounts',
    summary: 'Exchange a password for an API token',
    description:
      'Anonymous: the account and password are in the body (read first, 64 KiB at most). Every attempt costs one ' +
      'password hash, known account or not; failures are throttled per account and per address.',
    auth: 'login',
    body: TokenRequest,
    responses: { 201: { description: 'An API token', schema: TokenAnswer } },
    errors: { 401: 'unknown account or wrong password', 429: 'too many failed logins for the account or address' },
    access: { rule: 'anyone with an active account and its password' },
    audit: 'token',
    handle: async ({ env, req, body: input, requestId }) => {
      const { byAccount, byAddress, hashing } = env.logins;
      const accountKey = input.account;
      const addressKey = req.socket.remoteAddress ?? '-';
      byAccount.check(accountKey, `failed logins for account ${input.account}`);
      byAddress.check(addressKey, 'failed logins from this address');
      const account = await env.db.accounts.byId(input.account);
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
        { id: account.id, role: account.role as PersonRole, node: env.config.code, status: 'active' },
        {
          privateKey: env.identity.keys.privateKey,
          clock: env.deps.clock,
          ttlSeconds: ttl,
          randomBytes: env.deps.randomBytes,
        },
      );
      await audited(env, {
        who: `account:${account.id}`,
        action: 'token',
        resource: `account:${account.id}`,
        requestId,
      });
      return [201, { token, expiresIn: ttl }];
    },
  }),
  // A visualiser keeps its page's viewer token fresh with an operator's credential, not the viewer's password.
  route({
    operationId: 'mintViewerToken',
    method: 'post',
    path: ROUTES.viewerTokens,
    tag: 'accounts',
    summary: "Mint a token for one of this node's viewer accounts",
    description:
      'For a visualiser that renews its page’s viewer token with an operator’s credential (`cpnet viz --operator`, ' +
      '`cpnet viz token`): the viewer’s password never leaves its owner.',
    auth: 'required',
    body: ViewerTokenRequest,
    responses: { 201: { description: "An API token of the viewer's account", schema: TokenAnswer } },
    errors: {
      403: 'the caller is neither this node nor one of its operators, or the account is not an active viewer',
      404: 'no such account',
    },
    access: { rule: "this node's own signature or an operator's token" },
    audit: 'token',
    audited: ({ body }) => ({ resource: `account:${body.viewer}` }),
    handle: async ({ env, caller, body: input }) => {
      if (!nodeOrOperator(env, caller!.principal))
        fail('FORBIDDEN', "viewer tokens are minted by this node's operators (or the node itself)");
      const account = await env.db.accounts.byId(input.viewer);
      if (!account) fail('NOT_FOUND', `no account ${input.viewer} at ${env.config.code}`, 'viewer');
      if (account.role !== 'viewer')
        fail('FORBIDDEN', `${input.viewer} is a ${account.role} account; only viewer tokens are minted here`, 'viewer');
      if (account.status !== 'active') fail('FORBIDDEN', `${input.viewer} is ${account.status}`, 'viewer');
      const ttl = input.ttlSeconds ?? API_TOKEN_TTL_S.default;
      const token = await issueApiToken(
        { id: account.id, role: 'viewer', node: env.config.code, status: 'active' },
        {
          privateKey: env.identity.keys.privateKey,
          clock: env.deps.clock,
          ttlSeconds: ttl,
          randomBytes: env.deps.randomBytes,
        },
      );
      return [201, { token, expiresIn: ttl }];
    },
  }),
];

/**
 * Mounts the accounts area, with this node's login throttles (`limits.login` windows on the node's clock: wall time
 * in a node, virtual in the simulator).
 */
export function accountRoutes(ctx: RouteDeps): Router {
  const limits = ctx.config.limits.login;
  const logins = {
    byAccount: new WindowLimiter({
      limit: limits.failuresPerAccount,
      windowMs: limits.windowMs,
      clock: ctx.deps.clock,
    }),
    byAddress: new WindowLimiter({
      limit: limits.failuresPerAddress,
      windowMs: limits.windowMs,
      clock: ctx.deps.clock,
    }),
    hashing: new BoundedQueue({ concurrency: limits.hashConcurrency, queue: limits.hashQueue }),
  };
  return mountTable({ ...ctx, logins }, ACCOUNT_ROUTES);
}
