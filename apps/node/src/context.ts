import type { Policy } from '@cpnet/security';
import type { NodeNonceStore } from './store/nonces.ts';
import type { SerialAllocator } from '@cpnet/identifier';
import type { NodeClient } from '@cpnet/client';
import type { NodeLifecycle, Health } from '@cpnet/protocol';
import type { NodeConfig } from './config.ts';
import type { NodeDeps } from './deps.ts';
import type { Settings } from './store/settings.ts';
import type { NodeStores } from './store/stores.ts';
import type { NodeIdentity } from './identity.ts';
import type { AuditTrail } from './audit.ts';
import type { EventBus } from './events.ts';
import type { NodeMetrics } from './metrics.ts';
import type { AnswerCache } from './identifiers/cache.ts';
import type { HopHealth } from './identifiers/hops.ts';
import type { Outbox } from './links/outbox.ts';
import type { TlsLinks } from './links/tls.ts';

/** The mutable state of a running node. */
export interface NodeState {
  lifecycle: NodeLifecycle;
  health: Health;
  readonly startedAt: number;
  /** The URL it listens on, once listening (or the configured public URL). */
  url: string | null;
}

/**
 * The parts of one node, built once by createNode. No function takes all of it: each names the fields it uses (a
 * `Pick` of this type), so its dependencies are explicit and a test builds only those.
 */
export interface NodeContext {
  readonly config: NodeConfig;
  readonly deps: NodeDeps;
  /** The node's persistence: the only way to the database. */
  readonly db: NodeStores;
  readonly settings: Settings;
  readonly identity: NodeIdentity;
  readonly audit: AuditTrail;
  readonly events: EventBus;
  readonly metrics: NodeMetrics;
  readonly policy: Policy;
  readonly nonceStore: NodeNonceStore;
  readonly cache: AnswerCache;
  /** Next hops of resolution that did not answer lately (wall time). */
  readonly hops: HopHealth;
  readonly outbox: Outbox;
  /** TLS node links: this node's HTTPS listener and its peers' HTTPS endpoints. */
  readonly tls: TlsLinks;
  readonly serials: SerialAllocator;
  readonly state: NodeState;
  /** Person accounts' role and status, kept in memory for token checks. */
  readonly accounts: Map<string, { role: string; status: 'active' | 'suspended' | 'revoked' }>;
  /** A signing client of another node (cached per endpoint). */
  clientFor(endpoint: string): NodeClient;
  /** Changes this node's own lifecycle (persisted, event raised). */
  setLifecycle(lifecycle: NodeLifecycle, reason?: string): Promise<void>;
  /** The endpoint this node advertises. */
  endpoint(): string;
}
