// The scheduling suite with every node on PostgreSQL, in every `npm test` (placement, failover and failback, quotas,
// preemption, metering: every job state change is a unit of work).
import { onPostgres } from './on-postgres.ts';

await onPostgres(() => import('./scheduling.test.ts'));
