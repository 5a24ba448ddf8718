// PostgreSQL: the peer lookup (the rest through Prisma), in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { PeerLink, PeerStore } from '../peers.ts';
import type { PgSql } from '../pg-sql.ts';

export function postgresPeerStore(sql: PgSql, cold: PeerStore): PeerStore {
  return {
    ...cold,
    link: async (prefix) =>
      (
        await sql.query<PeerLink>(
          'SELECT "relation", "lifecycle", "publicKey", "endpoint" FROM "Peer" WHERE "prefix" = $1',
          [prefix],
        )
      ).rows[0],
  };
}
