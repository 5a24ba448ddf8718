import { openAcceptanceCase } from '../acceptance/service.ts';
import { issueCertificate, signDelegation, b64url } from '@cpnet/security';
import { formatTime, type Application } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { importPublicKey } from '../identity.ts';
import { registerRecord, updateRecord, findRecord } from '../identifiers/registry.ts';

const YEAR_MS = 365 * 86_400_000;

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
  const now = ctx.deps.clock.now();
  const childKey = importPublicKey(input.app.publicKey);
  const certificate = await issueCertificate(
    { subject: input.applicant, publicKey: childKey, notBefore: now - 86_400_000, notAfter: now + YEAR_MS },
    { certificate: ctx.identity.certificate, privateKey: ctx.identity.keys.privateKey },
    { randomBytes: ctx.deps.randomBytes },
  );
  const delegation = await signDelegation(
    {
      iss: ctx.config.code,
      prefix: input.applicant,
      serial: b64url(ctx.deps.randomBytes(9)),
      nbf: Math.floor(now / 1000) - 60,
      exp: Math.floor((now + YEAR_MS) / 1000),
    },
    { parentKey: ctx.identity.keys.privateKey, childPublicKey: childKey },
  );
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
  await openAcceptanceCase(ctx, { node: input.applicant, approvedAt: now });
  return { prefix: input.applicant, certificate, chain: ctx.identity.chain, delegation };
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
