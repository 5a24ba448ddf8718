import { createAuditLog, type AuditEntry, type AuditLog, type SignedTreeHead } from '@cpnet/security';
import { formatTime } from '@cpnet/protocol';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { NodeDeps } from './deps.ts';
import type { NodeIdentity } from './identity.ts';

/** The node's audit log: a Merkle tree in memory, every entry also in SQLite (rebuilt at start). */
export interface AuditTrail {
  record(entry: Omit<AuditEntry, 'time'>): Promise<void>;
  head(): SignedTreeHead;
  readonly log: AuditLog;
}

/** Opens the audit trail, replaying stored entries into the tree. */
export async function openAuditTrail(prisma: PrismaClient, ctx: { deps: NodeDeps; identity: NodeIdentity; code: string }): Promise<AuditTrail> {
  const log = createAuditLog();
  for (const row of await prisma.auditRecord.findMany({ orderBy: { seq: 'asc' } })) log.append(JSON.parse(row.entry) as AuditEntry);
  let chain = Promise.resolve();
  return {
    log,
    record(partial) {
      const entry: AuditEntry = { ...partial, time: formatTime(ctx.deps.clock.now()) };
      // Serialise appends so the table order is the tree order.
      chain = chain.then(async () => {
        log.append(entry);
        await prisma.auditRecord.create({ data: { entry: JSON.stringify(entry) } });
      });
      return chain;
    },
    head: () => log.signTreeHead({ logId: ctx.code, privateKey: ctx.identity.keys.privateKey, clock: ctx.deps.clock }),
  };
}
