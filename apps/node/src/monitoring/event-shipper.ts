import { ROUTES } from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { FORWARDED_EVENT_TYPES } from './event-log.ts';

const CURSOR = 'events.shipped';
const PAGE = 500;

/** A job.schedule whose explanation chose a cluster (an identifier with a serial) rather than a subtree (a prefix). */
function placedOnCluster(data: Record<string, unknown>): boolean {
  const chosen = (data.explanation as { chosen?: unknown } | undefined)?.chosen;
  return typeof chosen === 'string' && chosen.includes('/');
}

/** What `createEventShipper` uses of the node. */
type CreateEventShipperDeps = Pick<NodeContext, 'config' | 'db' | 'outbox' | 'settings'>;

/**
 * Queues forwardable events upward through the outbox, in order, from a cursor kept in the settings table.
 * If the node dies between queueing and moving the cursor, the events are queued again; the parent ignores ids
 * it already holds, so each arrives once.
 */
export function createEventShipper(ctx: CreateEventShipperDeps): { ship(): Promise<number> } {
  let running: Promise<number> | null = null;
  async function once(): Promise<number> {
    if (!ctx.config.parentUrl) return 0;
    let cursor = Number(ctx.settings.get(CURSOR) ?? '0');
    let shipped = 0;
    // Only forwarded types are read: job events (most of the log on a busy node) stay in SQLite. The cursor moves past
    // everything read up to the newest row, so the next round scans only what came since (not every job event again).
    const newest = await ctx.db.events.newestSeq();
    while (cursor < newest) {
      const rows = await ctx.db.events.ofTypes({
        types: FORWARDED_EVENT_TYPES,
        after: cursor,
        upTo: newest,
        limit: PAGE,
      });
      const events = rows
        .map((r) => ({
          id: r.id,
          type: r.type,
          at: r.at,
          node: r.node ?? ctx.config.code,
          ...(r.subject ? { subject: r.subject } : {}),
          severity: r.severity,
          data: JSON.parse(r.data) as Record<string, unknown>,
        }))
        // Of job.schedule only the placement on a cluster goes up (one per job): its explanation chose a cluster's
        // identifier (`<prefix>/<serial>`); the others chose a subtree (a bare prefix).
        .filter((e) => e.type !== 'job.schedule' || placedOnCluster(e.data));
      if (events.length > 0)
        await ctx.outbox.enqueue({ endpoint: ctx.config.parentUrl, path: ROUTES.events, body: { events } });
      // A short page is the last one: everything up to `newest` has been looked at.
      cursor = rows.length < PAGE ? newest : rows[rows.length - 1]!.seq;
      await ctx.settings.set(CURSOR, String(cursor));
      shipped += events.length;
    }
    if (shipped > 0) ctx.outbox.kick();
    return shipped;
  }
  return {
    ship() {
      running ??= once().finally(() => {
        running = null;
      });
      return running;
    },
  };
}
