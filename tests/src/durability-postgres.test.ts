// The durability suite with every node on PostgreSQL, in every `npm test` (restarts keep identity, records and the
// outbox; a parent away and back).
import { onPostgres } from './on-postgres.ts';

await onPostgres(() => import('./durability.test.ts'));
