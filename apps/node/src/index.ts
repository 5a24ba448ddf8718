/** Builds a node (Express + socket.io + its stores) without listening; parses its configuration. */
export { createNode, parseConfig, ConfigError, type CpnNode, type NodeParts } from './create-node.ts';
/** The node's persistence ports (one store per aggregate) and their SQLite implementation. */
export { openSqliteStores, type NodeStores, type SqliteStores } from './store/stores.ts';
export { openPostgresStores, type PostgresStores } from './store/postgres-stores.ts';
export type { DatabaseWork } from './store/pg-sql.ts';
export { applyPostgresMigrations, redactUrl } from './store/migrate-postgres.ts';
/** The node configuration schema (zod) and its types. */
export { NodeConfig, type NodeConfigInput } from './config.ts';
/** The injected dependencies (clock, logger, randomness) and their real defaults. */
export { defaultDeps, wallClock, type NodeDeps } from './deps.ts';
/** Test-only behaviours a conformance fault fixture switches off. */
export type { NodeFaults } from './faults.ts';
/** Loading configuration from a file, the environment and flags, and starting a node until a signal. */
export { loadConfig, startNode, ApplicationError, type ConfigSources } from './main.ts';
/** The shared context of a running node (for tests and the simulator). */
export type { NodeContext } from './context.ts';
/** The joint-debugging check list and its version. */
export { CHECKS, CHECK_LISTS, CHECK_LIST_VERSION, DOCUMENTED_SERIES } from './onboarding/checks.ts';
/** Judging a submitted joint-debugging result by the checks it lists. */
export { judgeJointDebugResult, type ResultVerdict } from './onboarding/reverse-result.ts';
/** Certificate renewal with the parent once two thirds of a certificate's life have passed (one check, on demand). */
export { renewIfDue, type RenewalOutcome } from './onboarding/renewal.ts';
/** The OpenAPI document generated from the protocol schemas. */
export { openApiDocument } from './openapi.ts';
/** A node refuses to start when its stored delegation does not match its configured code. */
export { DelegationMismatch } from './identity.ts';
/** A node refuses to start when its private key cannot be decrypted (wrong or missing passphrase). */
export { KeyPassphraseError } from './identity.ts';
/** Online backup of a node's SQLite database and restore into a data folder (`cpnet node backup|restore`). */
export { backupNode, restoreNode, BackupError, type BackupResult } from './store/sqlite-backup.ts';
/** Dead letters of the outbox (deliveries a peer refused): list them and queue them again (`cpnet node outbox`). */
export { readOutbox, retryDeadLetters } from './store/dead-letters.ts';
/** A delivery a peer refused, with its answer. */
export type { DeadLetter, QueuedGroup } from './store/outbox.ts';
/** A `node.db` failing SQLite's integrity check: the node refuses to start (`cpnet` exits 3). */
export { DatabaseDamaged } from './store/sqlite-database.ts';
/** A database migrated by a newer version of the node (it records migrations this version does not ship). */
export { DatabaseNewerThanNode } from './store/migrate.ts';
/** A data folder whose identity marker shows a node its database no longer holds (`cpnet` exits 3). */
export { NodeIdentityMismatch } from './store/identity-marker.ts';
/** The joint-debugging checks run one by one with structured evidence (for `cpnet check`), and a signed echo. */
export {
  runCheckList,
  signedEcho,
  type CheckTarget,
  type CheckOptions,
  type CheckOutcome,
  type CheckId,
} from './onboarding/checks.ts';
/** Evidence of a failed check (request, response, expected) and the HTTP exchange that records it. */
export {
  CheckFailure,
  exchange,
  failWith,
  statusOf,
  bodyOf,
  type CheckEvidence,
  type Exchange,
} from './onboarding/evidence.ts';
/** TLS node links: the identity check bound to a peer's prefix (`cpn:<prefix>` URI SAN) and the node's TLS side. */
export { checkPeerIdentity, type TlsLinks, type TlsRoute } from './links/tls.ts';
/**
 * The planner's view of clusters and subtrees as a node builds it (a cluster row from its registration, a stream's
 * task from its wire template, the subtree figures a node sends its parent), for tools that predict its choices.
 */
export { toCluster, toTask, mergeSummaries, type ClusterFacts } from './scheduling/mapping.ts';
