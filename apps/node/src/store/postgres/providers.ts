// PostgreSQL: providers, clusters and gateways' reports (batched), in PostgreSQL's SQL on node-postgres (see ../postgres-stores.ts).
import type { ClusterReport } from '@cpnet/protocol';
import type { PgSql } from '../pg-sql.ts';
import type { ProviderRow, ProviderStore } from '../providers.ts';

const PROVIDER_COLUMNS = `"id", "creditCode", "name", "province", "city", "publicKey", "lifecycle", "registeredAt"`;

export function postgresProviderStore(sql: PgSql, cold: ProviderStore): ProviderStore {
  return {
    ...cold,
    byCreditCode: async (creditCode) =>
      (await sql.query<ProviderRow>(`SELECT ${PROVIDER_COLUMNS} FROM "Provider" WHERE "creditCode" = $1`, [creditCode]))
        .rows[0],
    lifecycleOf: async (id) =>
      (await sql.query<{ lifecycle: string }>('SELECT "lifecycle" FROM "Provider" WHERE "id" = $1', [id])).rows[0]
        ?.lifecycle,
    async addProvider(r) {
      await sql.query(
        `INSERT INTO "Provider" (${PROVIDER_COLUMNS}, "lastReportSeq") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, -1)`,
        [r.id, r.creditCode, r.name, r.province, r.city, r.publicKey, r.lifecycle, r.registeredAt],
      );
    },
    async setProviderLifecycle(id, lifecycle) {
      await sql.write(() => sql.query('UPDATE "Provider" SET "lifecycle" = $1 WHERE "id" = $2', [lifecycle, id]));
    },
    async addCluster(c) {
      await sql.query(
        'INSERT INTO "Cluster" ("id", "provider", "spec", "lifecycle", "registeredAt") VALUES ($1, $2, $3, $4, $5)',
        [c.id, c.provider, JSON.stringify(c.spec), c.lifecycle, c.registeredAt],
      );
    },
    async setClusterLifecycle(id, lifecycle) {
      await sql.write(() => sql.query('UPDATE "Cluster" SET "lifecycle" = $1 WHERE "id" = $2', [lifecycle, id]));
    },
    async clusterSpec(id) {
      const row = (await sql.query<{ spec: string }>('SELECT "spec" FROM "Cluster" WHERE "id" = $1', [id])).rows[0];
      return row ? (JSON.parse(row.spec) as Record<string, unknown>) : null;
    },
    writeReports(input) {
      // One statement per table for the whole batch (unnest of arrays): a round trip per report would cap ingestion.
      const live = new Map<string, { report: string; health: string; count: number }>();
      const activate = new Set<string>();
      const lastSeq = new Map<string, number>();
      for (const r of input.batch) {
        lastSeq.set(r.gateway, Math.max(lastSeq.get(r.gateway) ?? -1, r.seq));
        for (const e of r.entries as readonly ClusterReport[]) {
          const held = live.get(e.cluster);
          live.set(e.cluster, { report: JSON.stringify(e), health: input.health(e), count: (held?.count ?? 0) + 1 });
          if (input.registered(e.cluster)) activate.add(e.cluster);
        }
      }
      const clusters = [...live.keys()];
      return sql.write(async () => {
        if (clusters.length > 0) {
          await sql.query(
            `INSERT INTO "ClusterLive" ("cluster", "report", "lastReportAt", "health", "reports")
              SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::int[])
              ON CONFLICT ("cluster") DO UPDATE SET "report" = excluded."report",
                "lastReportAt" = excluded."lastReportAt", "health" = excluded."health",
                "reports" = "ClusterLive"."reports" + excluded."reports"`,
            [
              clusters,
              clusters.map((c) => live.get(c)!.report),
              clusters.map(() => input.now),
              clusters.map((c) => live.get(c)!.health),
              clusters.map((c) => live.get(c)!.count),
            ],
          );
        }
        if (activate.size > 0)
          await sql.query(
            `UPDATE "Cluster" SET "lifecycle" = 'active' WHERE "id" = ANY($1::text[]) AND "lifecycle" = 'registered'`,
            [[...activate]],
          );
        for (const [gateway, seq] of lastSeq)
          await sql.query('UPDATE "Provider" SET "lastReportSeq" = $1 WHERE "id" = $2 AND "lastReportSeq" < $1', [
            seq,
            gateway,
          ]);
      });
    },
    async writeHealth(changes) {
      if (changes.length === 0) return;
      await sql.write(() =>
        sql.query(
          `UPDATE "ClusterLive" AS l SET "health" = c.health
            FROM unnest($1::text[], $2::text[]) AS c(cluster, health) WHERE l."cluster" = c.cluster`,
          [changes.map((c) => c.cluster), changes.map((c) => c.to)],
        ),
      );
    },
    async putChildSummary(s) {
      await sql.query(
        `INSERT INTO "ChildSummary" ("node", "at", "summary", "receivedAt") VALUES ($1, $2, $3, $4)
          ON CONFLICT ("node") DO UPDATE SET "at" = excluded."at", "summary" = excluded."summary",
          "receivedAt" = excluded."receivedAt"`,
        [s.node, s.at, s.summary, s.receivedAt],
      );
    },
  };
}
