import { createAuditLog, type AuditEntry, type AuditLog, type SignedTreeHead } from '@cpnet/security';
import { formatTime } from '@cpnet/protocol';
import type { NodeDeps } from './deps.ts';
import type { NodeIdentity } from './identity.ts';
import type { NodeStores } from './store/stores.ts';

/** The node's audit log: a Merkle tree in memory, every entry also in SQLite (rebuilt at start). */
export interface AuditTrail {
  /** Appends an entry in its own commit. */
  record(entry: Omit<AuditEntry, 'time'>): Promise<void>;
  /**
   * Appends an entry inside the caller's open transaction (`NodeStores.write`) (so the write and its audit entry commit
   * together); call it last in the transaction. The tree is updated only when the row is written.
   */
  recordInTransaction(entry: Omit<AuditEntry, 'time'>): Promise<void>;
  head(): SignedTreeHead;
  readonly log: AuditLog;
}

/** Opens the audit trail, replaying stored entries into the tree. */
export async function openAuditTrail(
  db: Pick<NodeStores, 'write' | 'audit'>,
  ctx: { deps: NodeDeps; identity: NodeIdentity; code: string },
): Promise<AuditTrail> {
  // The entries stay in the table only: the node answers from the tree (heads, proofs, leaf hashes), and keeping every
  // entry of its life in memory as well held ~4 MiB in the busiest node of a 30,000-job run (issue 26).
  const log = createAuditLog({ keepEntries: false });
  for (const entry of await db.audit.entries()) log.append(JSON.parse(entry) as AuditEntry);
  // Inside a unit of work (units run one after another), so the table order is always the tree order.
  const append = async (partial: Omit<AuditEntry, 'time'>) => {
    const entry: AuditEntry = { ...partial, time: formatTime(ctx.deps.clock.now()) };
    await db.audit.append(JSON.stringify(entry));
    log.append(entry);
  };
  return {
    log,
    record: (partial) => db.write(() => append(partial)),
    recordInTransaction: append,
    head: () => log.signTreeHead({ logId: ctx.code, privateKey: ctx.identity.keys.privateKey, clock: ctx.deps.clock }),
  };
}
