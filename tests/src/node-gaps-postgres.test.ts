// The node-gaps suite with every node on PostgreSQL, in every `npm test` (application reads, the deadline, the
// industry override, idempotency keys across a restart, the key at rest).
import { onPostgres } from './on-postgres.ts';

await onPostgres(() => import('./node-gaps.test.ts'));
