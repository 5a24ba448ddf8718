import { openAcceptanceCase } from '../acceptance/service.ts';
import { issueCertificate, signDelegation, b64url } from '@cpnet/security';
import { formatTime, type Application } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { importPublicKey } from '../identity.ts';
import { registerRecord, updateRecord, findRecord } from '../identifiers/registry.ts';

const DAY_MS = 86_400_000;

/** What a child receives on approval: its certificate, the issuer chain up to the root, the prefix delegation. */
export interface GrantBody {
  prefix: string;
  certificate: string;
  chain: string[];
  delegation: string;
}

/** The values of a node's ND record: the child's in this node's namespace, or the national node's own. */
export function nodeRecordValue(data: {
  prefix: string;
  role: string;
  endpoint: string;
  tlsEndpoint?: string;
  certificate: string;
  lifecycle: string;
  health: string;
}) {
  return [
    { index: 1, type: 'CPN_NODE', data, ttl: 30, permissions: { publicRead: true, adminRead: true, adminWrite: true } },
  ];
}

/** What `issueGrant` uses of the node. */
type IssueGrantDeps = Pick<
  NodeContext,
  'audit' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'metrics' | 'outbox' | 'serials'
>;

/** Issues the certificate and delegation of an approved child, records it as a peer and registers its ND record. */
export async function issueGrant(
  ctx: IssueGrantDeps,
  input: { applicant: string; app: Application },
): Promise<GrantBody> {
  if (!ctx.identity.certificate) throw new Error(`${ctx.config.code} has no certificate yet and cannot issue one`);
  const { certificate, delegation } = await issueCredentials(ctx, {
    prefix: input.applicant,
    publicKeyPem: input.app.publicKey,
  });
  const peer = {
    relation: 'child',
    role: input.app.role,
    endpoint: input.app.endpoint,
    publicKey: input.app.publicKey,
    certificate,
    lifecycle: 'approved',
    health: 'healthy',
  };
  await ctx.db.peers.put(input.applicant, peer);
  const record = await registerRecord(ctx, {
    kind: 'ND',
    values: nodeRecordValue({
      prefix: input.applicant,
      role: input.app.role,
      endpoint: input.app.endpoint,
      certificate,
      lifecycle: 'approved',
      health: 'healthy',
    }),
  });
  await ctx.db.peers.setNdRecord(input.applicant, record.id);
  // Approval starts the construction period (建设实施): the authority's acceptance case of the child.
  await openAcceptanceCase(ctx, { node: input.applicant, approvedAt: ctx.deps.clock.now() });
  return { prefix: input.applicant, certificate, chain: ctx.identity.chain, delegation };
}

/**
 * A certificate and a prefix delegation for a child's key, valid from a day ago (clock skew) for the configured
 * lifetime (`certificateLifetimeDays`).
 */
async function issueCredentials(
  ctx: Pick<NodeContext, 'config' | 'deps' | 'identity'>,
  input: { prefix: string; publicKeyPem: string },
): Promise<{ certificate: string; delegation: string }> {
  if (!ctx.identity.certificate) throw new Error(`${ctx.config.code} has no certificate yet and cannot issue one`);
  const now = ctx.deps.clock.now();
  const lifetimeMs = ctx.config.certificateLifetimeDays * DAY_MS;
  const childKey = importPublicKey(input.publicKeyPem);
  const certificate = await issueCertificate(
    { subject: input.prefix, publicKey: childKey, notBefore: now - DAY_MS, notAfter: now + lifetimeMs },
    { certificate: ctx.identity.certificate, privateKey: ctx.identity.keys.privateKey },
    { randomBytes: ctx.deps.randomBytes },
  );
  const delegation = await signDelegation(
    {
      iss: ctx.config.code,
      prefix: input.prefix,
      serial: b64url(ctx.deps.randomBytes(9)),
      nbf: Math.floor(now / 1000) - 60,
      exp: Math.floor((now + lifetimeMs) / 1000),
    },
    { parentKey: ctx.identity.keys.privateKey, childPublicKey: childKey },
  );
  return { certificate, delegation };
}

/** Lifecycles in which a child's certificate is not renewed: its parent has stopped vouching for it. */
const NOT_RENEWED = new Set(['suspended', 'revoked', 'rejected']);

/**
 * Renews an approved child's certificate and delegation for the same key (`POST /cpn/v1/node/certificate`), records
 * the new certificate in its peer entry and ND record, and hands down this node's current chain, so a renewal also
 * refreshes the issuer certificates the child presents. Refused for a node that is not a child here, or one that is
 * suspended, revoked or rejected.
 */
export async function renewGrant(
  ctx: Pick<NodeContext, 'audit' | 'cache' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'outbox' | 'tls'>,
  input: { prefix: string },
): Promise<{ ok: true; grant: GrantBody } | { ok: false; reason: string }> {
  const peer = await ctx.db.peers.byPrefix(input.prefix);
  if (peer?.relation !== 'child')
    return { ok: false, reason: `${input.prefix} is not a child of ${ctx.config.code}; a node's parent renews it` };
  if (NOT_RENEWED.has(peer.lifecycle))
    return { ok: false, reason: `${input.prefix} is ${peer.lifecycle}: its certificate is not renewed` };
  const { certificate, delegation } = await issueCredentials(ctx, {
    prefix: input.prefix,
    publicKeyPem: peer.publicKey,
  });
  const { relation, role, endpoint, publicKey, lifecycle, health } = peer;
  await ctx.db.peers.put(input.prefix, { relation, role, endpoint, publicKey, lifecycle, health, certificate });
  if (peer.ndRecord) {
    const record = await findRecord(ctx, peer.ndRecord);
    if (record?.status === 'active') {
      const current = record.values[0]?.data as Parameters<typeof nodeRecordValue>[0];
      await updateRecord(ctx, {
        id: record.id,
        update: { version: record.version, values: nodeRecordValue({ ...current, certificate }) },
      });
    }
  }
  return { ok: true, grant: { prefix: input.prefix, certificate, chain: ctx.identity.chain, delegation } };
}

/** What `setChildLifecycle` uses of the node. */
type SetChildLifecycleDeps = Pick<
  NodeContext,
  'audit' | 'cache' | 'config' | 'db' | 'deps' | 'events' | 'outbox' | 'tls'
>;

/** Records a child's new lifecycle in its peer entry and its ND record (a new version, copied upward). */
export async function setChildLifecycle(
  ctx: SetChildLifecycleDeps,
  input: { prefix: string; lifecycle: string },
): Promise<void> {
  const peer = await ctx.db.peers.byPrefix(input.prefix);
  if (!peer) return;
  await ctx.db.peers.setLifecycle(input.prefix, input.lifecycle);
  if (!peer.ndRecord) return;
  const record = await findRecord(ctx, peer.ndRecord);
  if (!record || record.status !== 'active') return;
  // The https endpoint learnt for the child (TLS links) rides along, so a concurrent update cannot drop it.
  const tlsEndpoint = peer.relation === 'child' ? ctx.tls.route(peer.endpoint)?.url : undefined;
  const data = {
    ...(record.values[0]?.data as Parameters<typeof nodeRecordValue>[0]),
    lifecycle: input.lifecycle,
    ...(tlsEndpoint ? { tlsEndpoint } : {}),
  };
  await updateRecord(ctx, { id: record.id, update: { version: record.version, values: nodeRecordValue(data) } });
  ctx.deps.logger.info(
    { child: input.prefix, lifecycle: input.lifecycle, at: formatTime(ctx.deps.clock.now()) },
    'child lifecycle changed',
  );
}

/** What `setChildTlsEndpoint` uses of the node. */
type SetChildTlsEndpointDeps = Pick<NodeContext, 'audit' | 'cache' | 'config' | 'db' | 'deps' | 'events' | 'outbox'>;

/** Records the https endpoint learnt for a child in its ND record (a new version, copied upward) when it changed. */
export async function setChildTlsEndpoint(
  ctx: SetChildTlsEndpointDeps,
  input: { prefix: string; tlsEndpoint: string },
): Promise<void> {
  const peer = await ctx.db.peers.byPrefix(input.prefix);
  if (!peer?.ndRecord || peer.relation !== 'child') return;
  const record = await findRecord(ctx, peer.ndRecord);
  if (!record || record.status !== 'active') return;
  const current = record.values[0]?.data as Parameters<typeof nodeRecordValue>[0];
  if (current.tlsEndpoint === input.tlsEndpoint) return;
  await updateRecord(ctx, {
    id: record.id,
    update: { version: record.version, values: nodeRecordValue({ ...current, tlsEndpoint: input.tlsEndpoint }) },
  });
}
