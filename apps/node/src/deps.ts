import { pino, type Logger } from 'pino';
import { cryptoRandomBytes, type RandomBytes } from '@cpnet/security';
import type { Clock } from '@cpnet/identifier';

/** What a node is built from besides its configuration: time, logs and randomness are injected. */
export interface NodeDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly randomBytes: RandomBytes;
}

/** Real defaults: the system clock, a pino logger at `level`, node:crypto randomness. */
export function defaultDeps(options: { level?: string; name?: string } = {}): NodeDeps {
  return {
    clock: { now: () => Date.now() },
    logger: pino({ level: options.level ?? 'info', name: options.name ?? 'cpnet-node' }),
    randomBytes: cryptoRandomBytes,
  };
}
