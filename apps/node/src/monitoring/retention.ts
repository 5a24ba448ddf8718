import { formatTime } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';

const DAY_MS = 86_400_000;

/** What `sweepEvents` uses of the node. */
type SweepEventsDeps = Pick<NodeContext, 'db' | 'deps'>;

/**
 * Deletes events older than the retention period (at least 180 days). Audit entries are never deleted: they are
 * leaves of the Merkle log, whose proofs need every entry; they are kept for the node's lifetime (≥ 180 days).
 */
export async function sweepEvents(ctx: SweepEventsDeps, days: number): Promise<number> {
  const cutoff = formatTime(ctx.deps.clock.now() - days * DAY_MS);
  const deleted = await ctx.db.events.deleteBefore(cutoff);
  if (deleted > 0) ctx.deps.logger.info({ deleted, before: cutoff }, 'events past retention deleted');
  return deleted;
}
