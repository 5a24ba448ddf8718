import type { z } from 'zod';
import { formatIdentifier, parseIdentifier, type Kind } from '@cpnet/identifier';
import { formatTime, ROUTES, type RegisterIdentifier, type UpdateIdentifier, type RecordValue } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import { toRow, toWire, type WireRecord } from '../store/records.ts';

type Values = z.output<typeof RecordValue>[];

/** Queues a record copy to the parent (nothing for the national node). */
export async function copyUpward(ctx: NodeContext, records: WireRecord[]): Promise<void> {
  if (!ctx.config.parentUrl || records.length === 0) return;
  await ctx.outbox.enqueue({ endpoint: ctx.config.parentUrl, path: ROUTES.copies, body: { records } });
  ctx.outbox.kick();
}

async function allocate(ctx: NodeContext, prefix: string, kind: string): Promise<string> {
  for (;;) {
    const serial = ctx.serials.next();
    const taken = await ctx.prisma.allocatedSerial.findUnique({ where: { prefix_serial: { prefix, serial } } });
    if (!taken) {
      await ctx.prisma.allocatedSerial.create({ data: { prefix, serial, kind } });
      await ctx.settings.set('serial.last', serial);
      return serial;
    }
  }
}

async function reserve(ctx: NodeContext, input: { prefix: string; kind: string; serial: string }): Promise<void> {
  try {
    await ctx.prisma.allocatedSerial.create({ data: input });
  } catch (e) {
    if ((e as { code?: string }).code === 'P2002') fail('CONFLICT', `serial ${input.serial} was already issued under ${input.prefix}; a serial is never reused`, 'serial');
    throw e;
  }
}

/** Registers a record under this node's prefix, allocating a serial when none is given; copies it upward. */
export async function registerRecord(ctx: NodeContext, input: z.output<typeof RegisterIdentifier>): Promise<WireRecord> {
  const prefix = input.prefix ?? ctx.config.code;
  if (prefix !== ctx.config.code) fail('FORBIDDEN', `this node registers only under its own prefix ${ctx.config.code}, not ${prefix}`, 'prefix');
  const serial = input.serial?.toUpperCase() ?? (await allocate(ctx, prefix, input.kind));
  const kind = input.kind as Kind;
  if (input.serial !== undefined) await reserve(ctx, { prefix, kind: input.kind, serial });
  const made = formatIdentifier({ prefix, kind, serial });
  if (!made.ok) fail('INVALID_IDENTIFIER', `${made.error.segment}: ${made.error.message}; expected ${made.error.expected}`, 'serial');
  const now = formatTime(ctx.deps.clock.now());
  const record: WireRecord = { id: made.value, kind, owner: prefix, version: 1, status: 'active', values: input.values, createdAt: now, updatedAt: now };
  await ctx.prisma.identifierRecord.create({ data: toRow(record, { prefix, serial }) });
  ctx.metrics.registrations.inc();
  ctx.events.emit('identifier.registered', { subject: record.id });
  await copyUpward(ctx, [record]);
  return record;
}

/** Reads a stored record (own or a copy). */
export async function findRecord(ctx: NodeContext, id: string): Promise<WireRecord | null> {
  const row = await ctx.prisma.identifierRecord.findUnique({ where: { id } });
  return row ? toWire(row) : null;
}

async function ownRecord(ctx: NodeContext, id: string): Promise<WireRecord> {
  const record = await findRecord(ctx, id);
  if (!record || record.owner !== ctx.config.code) fail('NOT_FOUND', `${id} is not a record of ${ctx.config.code}`);
  if (record.status === 'revoked') fail('CONFLICT', `${id} is revoked`);
  return record;
}

async function save(ctx: NodeContext, record: WireRecord): Promise<WireRecord> {
  const parsed = parseIdentifier(record.id);
  if (!parsed.ok) fail('INVALID_IDENTIFIER', parsed.error.message);
  await ctx.prisma.identifierRecord.update({ where: { id: record.id }, data: toRow(record, { prefix: parsed.value.prefix, serial: parsed.value.serial }) });
  ctx.cache.forget(record.id);
  await copyUpward(ctx, [record]);
  return record;
}

/** Replaces a record's values as a new version; the caller's version must be the current one. */
export async function updateRecord(ctx: NodeContext, input: { id: string; update: z.output<typeof UpdateIdentifier> }): Promise<WireRecord> {
  const current = await ownRecord(ctx, input.id);
  if (current.version !== input.update.version) fail('CONFLICT', `version ${input.update.version} is not the current version ${current.version} of ${input.id}`, 'version');
  const next = { ...current, values: input.update.values as Values, version: current.version + 1, updatedAt: formatTime(ctx.deps.clock.now()) };
  ctx.events.emit('identifier.updated', { subject: next.id, data: { version: next.version } });
  return save(ctx, next);
}

/** Revokes a record (a new version with status revoked); its serial stays taken. */
export async function revokeRecord(ctx: NodeContext, id: string): Promise<WireRecord> {
  const current = await ownRecord(ctx, id);
  const next = { ...current, status: 'revoked' as const, version: current.version + 1, updatedAt: formatTime(ctx.deps.clock.now()) };
  ctx.events.emit('identifier.revoked', { subject: id });
  return save(ctx, next);
}

/** A page of records ordered by identifier, optionally under one prefix. */
export async function listRecords(ctx: NodeContext, q: { prefix?: string; cursor?: string; limit: number }) {
  const rows = await ctx.prisma.identifierRecord.findMany({
    where: { ...(q.prefix ? { prefix: q.prefix } : {}), ...(q.cursor ? { id: { gt: q.cursor } } : {}) },
    orderBy: { id: 'asc' },
    take: q.limit + 1,
  });
  const items = rows.slice(0, q.limit).map(toWire);
  return { items, next: rows.length > q.limit ? (items[items.length - 1]?.id ?? null) : null };
}

/** Stores copies from a child if newer than what is held; returns those accepted (to copy further up). */
export async function storeCopies(ctx: NodeContext, records: WireRecord[]): Promise<WireRecord[]> {
  const accepted: WireRecord[] = [];
  for (const record of records) {
    const parsed = parseIdentifier(record.id);
    if (!parsed.ok) continue;
    const held = await ctx.prisma.identifierRecord.findUnique({ where: { id: record.id }, select: { version: true } });
    if (held && held.version >= record.version) continue;
    const data = toRow(record, { prefix: parsed.value.prefix, serial: parsed.value.serial });
    await ctx.prisma.identifierRecord.upsert({ where: { id: record.id }, create: data, update: data });
    ctx.cache.forget(record.id);
    accepted.push(record);
  }
  await copyUpward(ctx, accepted);
  return accepted;
}
