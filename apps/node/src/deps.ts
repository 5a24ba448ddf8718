import { pino, type Logger } from 'pino';
import { cryptoRandomBytes, type RandomBytes } from '@cpnet/security';
import type { Clock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import type { NodeFaults } from './fault-spec.ts';
import type { DatabaseWork } from './store/pg-sql.ts';

/**
 * Runs an async background task every `ms` of node time (`deps.clock`); a failure is logged as `what failed` and the
 * next round runs as usual. Returns a function that stops it.
 */
export function repeat(
  deps: Pick<NodeDeps, 'clock' | 'logger'>,
  o: { ms: number; what: string },
  task: () => Promise<unknown>,
): () => void {
  return deps.clock.setInterval(() => {
    task().catch((e: unknown) => deps.logger.warn({ err: e }, `${o.what} failed`));
  }, o.ms);
}

/**
 * What a node is built from besides its configuration: time, logs and randomness are injected. The node has two
 * clocks (apps/node/README.md, "Time", lists every duration and which one it runs on).
 */
export interface NodeDeps {
  /**
   * Node time: every timestamp, timer, sleep and deadline of the node's logic (tokens, certificates, leases, retention,
   * health timeouts, retries, signature windows, periodic work). Virtual in a simulation.
   */
  readonly clock: Clock;
  /**
   * Wall time: only durations that guard real network I/O (a link request's timeout, a gateway's acknowledgement, how
   * long a batch lingers). Default `systemClock`; a simulation passes a virtual `clock` and keeps this real.
   */
  readonly wall?: Clock;
  readonly logger: Logger;
  readonly randomBytes: RandomBytes;
  /**
   * A simulator's count of work in flight: on PostgreSQL every statement and unit of work of the node's stores begins
   * and ends one (`DatabaseWork`), so virtual time does not jump while a round trip a timer started is running.
   * Unused on SQLite, whose statements finish inside the task that asks for them.
   */
  readonly databaseWork?: DatabaseWork;
  /** Test-only: behaviours switched off for a conformance fault fixture (none in a real node). */
  readonly faults?: NodeFaults;
}

/** The node's wall clock: `deps.wall`, else the system clock. */
export function wallClock(deps: Pick<NodeDeps, 'wall'>): Clock {
  return deps.wall ?? systemClock;
}

/** Real defaults: the system clock (node time is wall time), a pino logger at `level`, node:crypto randomness. */
export function defaultDeps(options: { level?: string; name?: string } = {}): NodeDeps {
  return {
    clock: systemClock,
    wall: systemClock,
    logger: pino({ level: options.level ?? 'info', name: options.name ?? 'cpnet-node' }),
    randomBytes: cryptoRandomBytes,
  };
}
