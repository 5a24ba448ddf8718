import { pino, type Logger } from 'pino';
import { cryptoRandomBytes, type RandomBytes } from '@cpnet/security';
import type { TimeSource } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';

/** Runs `fn` every `ms` of the clock's time; returns a function that stops it. */
export type Every = (ms: number, fn: () => void) => () => void;

/** Periodic work in real time (setInterval, not keeping the process alive). */
export const realEvery: Every = (ms, fn) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

/**
 * Runs an async background task every `ms` of the node's time (`deps.every`, else real time); a failure is logged as
 * `what failed` and the next round runs as usual. Returns a function that stops it.
 */
export function repeat(
  deps: Pick<NodeDeps, 'every' | 'logger'>,
  o: { ms: number; what: string },
  task: () => Promise<unknown>,
): () => void {
  return (deps.every ?? realEvery)(o.ms, () => {
    task().catch((e: unknown) => deps.logger.warn({ err: e }, `${o.what} failed`));
  });
}

/** What a node is built from besides its configuration: time, logs and randomness are injected. */
export interface NodeDeps {
  readonly clock: TimeSource;
  /**
   * Periodic work (health sweeps, summaries, scheduling ticks) measured in the same time as `clock`: a simulation on
   * a virtual clock passes its own, so intervals and the silence thresholds they are compared with agree. Default
   * `realEvery`.
   */
  readonly every?: Every;
  readonly logger: Logger;
  readonly randomBytes: RandomBytes;
}

/** Real defaults: the system clock, a pino logger at `level`, node:crypto randomness. */
export function defaultDeps(options: { level?: string; name?: string } = {}): NodeDeps {
  return {
    clock: systemClock,
    logger: pino({ level: options.level ?? 'info', name: options.name ?? 'cpnet-node' }),
    randomBytes: cryptoRandomBytes,
  };
}
