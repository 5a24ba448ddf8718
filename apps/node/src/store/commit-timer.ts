// When a hot-path connection's queue of units of work commits: the one timing rule of group commit, shared by the
// SQLite connection (sql.ts) and the PostgreSQL one (pg-sql.ts).
import { systemClock } from '@cpnet/kernel/system';

/**
 * How long (wall time, ms) an enlisted unit waits for a write to join before it commits alone. A request's own
 * write comes tens of milliseconds after its nonce on a loaded machine, and an answer asks for the commit it
 * waits for (see `durableNonceStore`), so this only bounds how long an unanswered request's nonce stays in memory.
 */
export const ENLIST_WAIT_MS = 1000;

/** Asks for a flush of a group-commit queue. */
export interface CommitTimer {
  /**
   * Asks for a flush: on the next turn of the event loop when `eager` (a `write` waits), after `ENLIST_WAIT_MS` of
   * wall time otherwise (only enlisted units wait). A flush already asked for in the same way is not asked again; an
   * eager one is asked for even while a lazy one waits (the lazy one then finds the queue empty or busy).
   */
  request(eager: boolean): void;
}

/** The timer of one queue; `flush` commits what the queue holds (and does nothing while a commit runs). */
export function commitTimer(flush: () => void): CommitTimer {
  let soon = false;
  let later = false;
  return {
    request(eager) {
      if (eager) {
        if (soon) return;
        soon = true;
        setImmediate(() => {
          soon = false;
          flush();
        });
      } else if (!later) {
        later = true;
        // Wall time: how long an enlisted unit waits for a write to share its commit with.
        systemClock.setTimeout(() => {
          later = false;
          flush();
        }, ENLIST_WAIT_MS);
      }
    },
  };
}
