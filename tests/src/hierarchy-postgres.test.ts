// The hierarchy suite with every node on PostgreSQL, in every `npm test` (onboarding down three levels,
// registration, copies upward, the outbox backlog and its retries).
import { onPostgres } from './on-postgres.ts';

await onPostgres(() => import('./hierarchy.test.ts'));
