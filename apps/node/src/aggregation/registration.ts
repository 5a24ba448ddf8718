import { formatIdentifier, type Kind } from '@cpnet/identifier';
import {
  formatTime,
  ROUTES,
  type RegisterCluster,
  type RegisterProvider,
  type IdentifierRecord,
  type MonitorEvent,
} from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { storedResponse, storeResponse, type IdempotencyScope } from '../http/idempotency.ts';
import type { ProviderRow } from '../store/providers.ts';
import { allocateSerial, type WriteAudit } from '../identifiers/registry.ts';
import type { ClusterSpec } from './types.ts';

/** A provider as the node answers it. */
export interface ProviderView {
  id: string;
  name: string;
  creditCode: string;
  province: string;
  city: string;
  node: string;
  lifecycle: string;
  health: string;
  registeredAt: string;
}

/** A cluster as the node answers it: its declaration, identifier, lifecycle and health. */
export type ClusterView = Omit<ClusterSpec, 'lifecycle'> & {
  lifecycle: string;
  health: string;
  registeredAt: string;
  arch: string;
  securityLevel: number;
  carbonIntensity: number;
};

/** What one registration did: the answer, its status, and whether it created something (false for a replay). */
export interface Registered<T> {
  readonly status: number;
  readonly value: T;
  readonly created: boolean;
  /** The registration's event, stored in its transaction; the caller streams it (`events.publish`) after the commit. */
  readonly event?: MonitorEvent;
}

// Everything below runs inside one ctx.db.write transaction: serial, row, identifier record, copy upward, audit
// entry and idempotency key commit together, so a write is either wholly there or not at all after a crash.

async function allocate(
  ctx: Pick<NodeContext, 'config' | 'db' | 'deps' | 'serials'>,
  kind: Kind,
): Promise<{ id: string; serial: string }> {
  const prefix = ctx.config.code;
  const serial = await allocateSerial(ctx, { prefix, kind });
  const made = formatIdentifier({ prefix, kind, serial });
  if (!made.ok) throw new Error(made.error.message);
  return { id: made.value, serial };
}

async function recordIdentifier(
  ctx: Pick<NodeContext, 'config' | 'db' | 'outbox'>,
  input: { id: string; serial: string; kind: Kind; type: string; data: unknown; at: string },
): Promise<void> {
  const record: IdentifierRecord = {
    id: input.id,
    kind: input.kind,
    owner: ctx.config.code,
    version: 1,
    status: 'active',
    values: [
      {
        index: 1,
        type: input.type,
        data: input.data,
        ttl: 60,
        permissions: { publicRead: true, adminRead: true, adminWrite: true },
      },
    ],
    createdAt: input.at,
    updatedAt: input.at,
  };
  await ctx.db.identifiers.insert(record, { prefix: ctx.config.code, serial: input.serial });
  if (ctx.config.parentUrl)
    await ctx.outbox.enqueueInTransaction({
      endpoint: ctx.config.parentUrl,
      path: ROUTES.copies,
      body: { records: [record] },
    });
}

function providerView(ctx: Pick<NodeContext, 'config'>, row: Omit<ProviderRow, 'publicKey'>): ProviderView {
  return {
    id: row.id,
    name: row.name,
    creditCode: row.creditCode,
    province: row.province,
    city: row.city,
    node: ctx.config.code,
    lifecycle: row.lifecycle,
    health: 'down',
    registeredAt: row.registeredAt,
  };
}

/** What `registerProvider` uses of the node. */
type RegisterProviderDeps = Pick<NodeContext, 'audit' | 'config' | 'db' | 'deps' | 'events' | 'outbox' | 'serials'>;

/**
 * Registers a provider and allocates its PV identifier. A provider is known by its 统一社会信用代码: the same code
 * again with the same key answers the existing provider (200); with another key it is a conflict (409).
 */
export function registerProvider(
  ctx: RegisterProviderDeps,
  input: { body: RegisterProvider; idempotency: IdempotencyScope | null; audit: WriteAudit },
): Promise<Registered<ProviderView>> {
  const body = input.body;
  return ctx.db.write(async () => {
    const held = input.idempotency ? await storedResponse(ctx.db.idempotency, input.idempotency) : null;
    if (held) return { status: held.status, value: held.body as ProviderView, created: false };
    const existing = await ctx.db.providers.byCreditCode(body.creditCode);
    if (existing) {
      if (existing.publicKey.trim() !== body.publicKey.trim())
        fail(
          'CONFLICT',
          `a provider with credit code ${body.creditCode} is already registered (${existing.id}) with another key`,
          'creditCode',
        );
      return { status: 200, value: providerView(ctx, existing), created: false };
    }
    const at = formatTime(ctx.deps.clock.now());
    const { id, serial } = await allocate(ctx, 'PV');
    const row: ProviderRow = {
      id,
      name: body.name,
      creditCode: body.creditCode,
      province: body.province,
      city: body.city,
      publicKey: body.publicKey,
      lifecycle: 'active',
      registeredAt: at,
    };
    await ctx.db.providers.addProvider(row);
    await recordIdentifier(ctx, {
      id,
      serial,
      kind: 'PV',
      type: 'CPN_PROVIDER',
      data: {
        name: row.name,
        creditCode: row.creditCode,
        province: row.province,
        city: row.city,
        node: ctx.config.code,
      },
      at,
    });
    const value = providerView(ctx, row);
    if (input.idempotency)
      await storeResponse(ctx.db.idempotency, {
        scope: input.idempotency,
        status: 201,
        body: value,
        now: ctx.deps.clock.now(),
      });
    await ctx.audit.recordInTransaction({ ...input.audit, resource: `provider:${id}`, decision: 'allow' });
    const event = await ctx.events.stage('provider.registered', {
      subject: id,
      data: { name: row.name, creditCode: row.creditCode, province: row.province },
    });
    return { status: 201, value, created: true, event };
  });
}

/** What `registerCluster` uses of the node. */
type RegisterClusterDeps = Pick<NodeContext, 'audit' | 'config' | 'db' | 'deps' | 'events' | 'outbox' | 'serials'>;

/**
 * Registers a cluster of a provider and allocates its CL identifier; a retried registration with the same
 * idempotency key is answered from the database, never applied twice.
 */
export function registerCluster(
  ctx: RegisterClusterDeps,
  input: { body: RegisterCluster; idempotency: IdempotencyScope | null; audit: WriteAudit },
): Promise<Registered<ClusterView> & { spec: ClusterSpec | null }> {
  const body = input.body;
  return ctx.db.write(async () => {
    const held = input.idempotency ? await storedResponse(ctx.db.idempotency, input.idempotency) : null;
    if (held) return { status: held.status, value: held.body as ClusterView, created: false, spec: null };
    const lifecycle = await ctx.db.providers.lifecycleOf(body.provider);
    if (!lifecycle)
      fail('NOT_FOUND', `${body.provider} is not a provider registered at ${ctx.config.code}`, 'provider');
    if (lifecycle !== 'active')
      fail('FORBIDDEN', `${body.provider} is ${lifecycle}; it registers no clusters`, 'provider');
    const at = formatTime(ctx.deps.clock.now());
    const { id, serial } = await allocate(ctx, 'CL');
    const spec: ClusterSpec = {
      id,
      node: ctx.config.code,
      provider: body.provider,
      name: body.name,
      province: body.province,
      city: body.city,
      industry: body.industry,
      resourceClass: body.resourceClass,
      capacity: body.capacity,
      price: body.price,
      pue: body.pue,
      greenShare: body.greenShare,
      lifecycle: 'registered',
    };
    const { lifecycle: _registered, ...declared } = spec;
    void _registered;
    const stored = {
      ...declared,
      arch: body.arch,
      securityLevel: body.securityLevel,
      carbonIntensity: body.carbonIntensity,
    };
    await ctx.db.providers.addCluster({
      id,
      provider: body.provider,
      spec: stored,
      lifecycle: 'registered',
      registeredAt: at,
    });
    await recordIdentifier(ctx, { id, serial, kind: 'CL', type: 'CPN_CLUSTER', data: stored, at });
    const value: ClusterView = { ...stored, lifecycle: 'registered', health: 'down', registeredAt: at };
    if (input.idempotency)
      await storeResponse(ctx.db.idempotency, {
        scope: input.idempotency,
        status: 201,
        body: value,
        now: ctx.deps.clock.now(),
      });
    await ctx.audit.recordInTransaction({ ...input.audit, resource: `cluster:${id}`, decision: 'allow' });
    const event = await ctx.events.stage('cluster.registered', {
      subject: id,
      data: { provider: spec.provider, province: spec.province, resourceClass: spec.resourceClass },
    });
    return { status: 201, value, created: true, spec, event };
  });
}
