import { formatIdentifier, parseIdentifier, type Kind } from '@cpnet/identifier';
import {
  formatTime,
  ROUTES,
  type RegisterIdentifier,
  type UpdateIdentifier,
  type RecordValue,
  type IdentifierRecord,
} from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { storedResponse, storeResponse, type IdempotencyScope } from '../http/idempotency.ts';

/** Who a write is done for, audited in the same transaction as the write. */
export interface WriteAudit {
  readonly who: string;
  readonly action: string;
  readonly requestId: string;
}

/** Queues a record copy to the parent inside the caller's transaction (nothing for the national node). */
async function queueCopies(ctx: Pick<NodeContext, 'config' | 'outbox'>, records: IdentifierRecord[]): Promise<boolean> {
  if (!ctx.config.parentUrl || records.length === 0) return false;
  await ctx.outbox.enqueueInTransaction({ endpoint: ctx.config.parentUrl, path: ROUTES.copies, body: { records } });
  return true;
}

/** What `allocateSerial` uses of the node. */
type AllocateSerialDeps = Pick<NodeContext, 'db' | 'deps' | 'serials'>;

/** Takes the next free serial under a prefix (inside the caller's transaction). */
export async function allocateSerial(
  ctx: AllocateSerialDeps,
  input: { prefix: string; kind: string },
): Promise<string> {
  for (;;) {
    const serial = ctx.serials.next();
    if (await ctx.db.identifiers.takeSerial({ ...input, serial, at: ctx.deps.clock.now() })) {
      // Kept so a restarted node's allocator continues after it; read only at start, so the cache is not updated.
      await ctx.db.settings.put('serial.last', serial);
      return serial;
    }
  }
}

async function reserveSerial(
  ctx: Pick<NodeContext, 'db' | 'deps'>,
  input: { prefix: string; kind: string; serial: string },
): Promise<void> {
  if (!(await ctx.db.identifiers.takeSerial({ ...input, at: ctx.deps.clock.now() })))
    fail(
      'CONFLICT',
      `serial ${input.serial} was already issued under ${input.prefix}; a serial is never reused`,
      'serial',
    );
}

/** What `registerRecord` uses of the node. */
type RegisterRecordDeps = Pick<
  NodeContext,
  'audit' | 'config' | 'db' | 'deps' | 'events' | 'metrics' | 'outbox' | 'serials'
>;

/**
 * Registers a record under this node's prefix, allocating a serial when none is given. The serial, the record, its
 * copy upward, the audit entry, the idempotency key and the `identifier.registered` event commit in one transaction;
 * a retry with the same key gets the stored answer, even when the first attempt's answer was lost.
 */
export async function registerRecord(
  ctx: RegisterRecordDeps,
  input: RegisterIdentifier,
  options: { audit?: WriteAudit; idempotency?: IdempotencyScope | null } = {},
): Promise<IdentifierRecord> {
  const prefix = input.prefix ?? ctx.config.code;
  if (prefix !== ctx.config.code)
    fail('FORBIDDEN', `this node registers only under its own prefix ${ctx.config.code}, not ${prefix}`, 'prefix');
  const kind = input.kind as Kind;
  const given = input.serial?.toUpperCase();
  if (given !== undefined) {
    const made = formatIdentifier({ prefix, kind, serial: given });
    if (!made.ok)
      fail(
        'INVALID_IDENTIFIER',
        `${made.error.segment}: ${made.error.message}; expected ${made.error.expected}`,
        'serial',
      );
  }
  const { record, fresh, queued, event } = await ctx.db.write(async () => {
    const held = options.idempotency ? await storedResponse(ctx.db.idempotency, options.idempotency) : null;
    if (held) return { record: held.body as IdentifierRecord, fresh: false, queued: false, event: null };
    const serial = given ?? (await allocateSerial(ctx, { prefix, kind: input.kind }));
    if (given !== undefined) await reserveSerial(ctx, { prefix, kind: input.kind, serial });
    const made = formatIdentifier({ prefix, kind, serial });
    if (!made.ok)
      fail(
        'INVALID_IDENTIFIER',
        `${made.error.segment}: ${made.error.message}; expected ${made.error.expected}`,
        'serial',
      );
    const now = ctx.deps.clock.now();
    const at = formatTime(now);
    const rec: IdentifierRecord = {
      id: made.value,
      kind,
      owner: prefix,
      version: 1,
      status: 'active',
      values: input.values,
      createdAt: at,
      updatedAt: at,
    };
    await ctx.db.identifiers.insert(rec, { prefix, serial });
    const q = await queueCopies(ctx, [rec]);
    if (options.idempotency)
      await storeResponse(ctx.db.idempotency, { scope: options.idempotency, status: 201, body: rec, now });
    if (options.audit)
      await ctx.audit.recordInTransaction({ ...options.audit, resource: `record:${rec.id}`, decision: 'allow' });
    // The event's row commits with the record (no commit of its own); it is streamed once that commit is done.
    const event = await ctx.events.stage('identifier.registered', { subject: rec.id });
    return { record: rec, fresh: true, queued: q, event };
  });
  if (fresh) {
    ctx.metrics.registrations.inc();
    if (event) ctx.events.publish(event);
  }
  if (queued) ctx.outbox.kick();
  return record;
}

/** What `findRecord` uses of the node. */
type FindRecordDeps = Pick<NodeContext, 'db'>;

/** Reads a stored record (own or a copy). */
export async function findRecord(ctx: FindRecordDeps, id: string): Promise<IdentifierRecord | null> {
  return ctx.db.identifiers.byId(id);
}

async function ownRecord(ctx: Pick<NodeContext, 'config' | 'db'>, id: string): Promise<IdentifierRecord> {
  const record = await findRecord(ctx, id);
  if (!record || record.owner !== ctx.config.code) fail('NOT_FOUND', `${id} is not a record of ${ctx.config.code}`);
  if (record.status === 'revoked') fail('CONFLICT', `${id} is revoked`);
  return record;
}

/** Writes a new version of an own record with its copy upward and audit entry, in one transaction. */
async function saveVersion(
  ctx: Pick<NodeContext, 'audit' | 'cache' | 'config' | 'db' | 'outbox'>,
  input: { id: string; next: (current: IdentifierRecord) => IdentifierRecord; audit?: WriteAudit },
): Promise<{ record: IdentifierRecord; previous: IdentifierRecord }> {
  const out = await ctx.db.write(async () => {
    const previous = await ownRecord(ctx, input.id);
    const record = input.next(previous);
    const parsed = parseIdentifier(record.id);
    if (!parsed.ok) fail('INVALID_IDENTIFIER', parsed.error.message);
    await ctx.db.identifiers.put(record, { prefix: parsed.value.prefix, serial: parsed.value.serial });
    const queued = await queueCopies(ctx, [record]);
    if (input.audit)
      await ctx.audit.recordInTransaction({ ...input.audit, resource: `record:${record.id}`, decision: 'allow' });
    return { record, previous, queued };
  });
  ctx.cache.forget(input.id);
  if (out.queued) ctx.outbox.kick();
  return out;
}

/** What `updateRecord` uses of the node. */
type UpdateRecordDeps = Pick<NodeContext, 'audit' | 'cache' | 'config' | 'db' | 'deps' | 'events' | 'outbox'>;

/** Replaces a record's values as a new version; the caller's version must be the current one. */
export async function updateRecord(
  ctx: UpdateRecordDeps,
  input: { id: string; update: UpdateIdentifier; audit?: WriteAudit },
): Promise<IdentifierRecord> {
  const { record } = await saveVersion(ctx, {
    id: input.id,
    audit: input.audit,
    next: (current) => {
      if (current.version !== input.update.version)
        fail(
          'CONFLICT',
          `version ${input.update.version} is not the current version ${current.version} of ${input.id}`,
          'version',
        );
      return {
        ...current,
        values: input.update.values as RecordValue[],
        version: current.version + 1,
        updatedAt: formatTime(ctx.deps.clock.now()),
      };
    },
  });
  ctx.events.emit('identifier.updated', { subject: record.id, data: { version: record.version } });
  return record;
}

/** What `revokeRecord` uses of the node. */
type RevokeRecordDeps = Pick<NodeContext, 'audit' | 'cache' | 'config' | 'db' | 'deps' | 'events' | 'outbox'>;

/** Revokes a record (a new version with status revoked); its serial stays taken. */
export async function revokeRecord(ctx: RevokeRecordDeps, id: string, audit?: WriteAudit): Promise<IdentifierRecord> {
  const { record } = await saveVersion(ctx, {
    id,
    audit,
    next: (current) => ({
      ...current,
      status: 'revoked' as const,
      version: current.version + 1,
      updatedAt: formatTime(ctx.deps.clock.now()),
    }),
  });
  ctx.events.emit('identifier.revoked', { subject: id });
  return record;
}

/** What `listRecords` uses of the node. */
type ListRecordsDeps = Pick<NodeContext, 'db'>;

/** A page of records ordered by identifier, optionally under one prefix. */
export async function listRecords(ctx: ListRecordsDeps, q: { prefix?: string; cursor?: string; limit: number }) {
  const rows = await ctx.db.identifiers.page({
    ...(q.prefix ? { prefix: q.prefix } : {}),
    ...(q.cursor ? { after: q.cursor } : {}),
    take: q.limit + 1,
  });
  const items = rows.slice(0, q.limit);
  return { items, next: rows.length > q.limit ? (items[items.length - 1]?.id ?? null) : null };
}

/** What `storeCopies` uses of the node. */
type StoreCopiesDeps = Pick<NodeContext, 'audit' | 'cache' | 'config' | 'db' | 'outbox'>;

/** Stores copies from a child if newer than what is held, in one transaction with their copy further up. */
export async function storeCopies(
  ctx: StoreCopiesDeps,
  records: IdentifierRecord[],
  audit?: WriteAudit & { resource: string },
): Promise<IdentifierRecord[]> {
  const { accepted, queued } = await ctx.db.write(async () => {
    const out: IdentifierRecord[] = [];
    for (const record of records) {
      const parsed = parseIdentifier(record.id);
      if (!parsed.ok) continue;
      const held = await ctx.db.identifiers.versionOf(record.id);
      if (held !== undefined && held >= record.version) continue;
      await ctx.db.identifiers.put(record, { prefix: parsed.value.prefix, serial: parsed.value.serial });
      out.push(record);
    }
    const q = await queueCopies(ctx, out);
    if (audit)
      await ctx.audit.recordInTransaction({
        who: audit.who,
        action: audit.action,
        resource: audit.resource,
        requestId: audit.requestId,
        decision: 'allow',
      });
    return { accepted: out, queued: q };
  });
  for (const r of accepted) ctx.cache.forget(r.id);
  if (queued) ctx.outbox.kick();
  return accepted;
}
