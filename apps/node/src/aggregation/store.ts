import type { PrismaClient } from '../generated/prisma/client.ts';
import type { SqlStore } from '../store/sql.ts';
import type { PendingReport } from '../gateway/ingest.ts';
import type { ClusterReportT, ClusterSpec, ClusterState, HealthT, MemberLifecycleT } from './types.ts';

const UPSERT_LIVE = `INSERT INTO "ClusterLive" ("cluster", "report", "lastReportAt", "health", "reports") VALUES (?, ?, ?, ?, 1)
  ON CONFLICT ("cluster") DO UPDATE SET "report" = excluded."report", "lastReportAt" = excluded."lastReportAt",
  "health" = excluded."health", "reports" = "ClusterLive"."reports" + 1`;
const SET_SEQ = 'UPDATE "Provider" SET "lastReportSeq" = ? WHERE "id" = ? AND "lastReportSeq" < ?';
const ACTIVATE = `UPDATE "Cluster" SET "lifecycle" = 'active' WHERE "id" = ? AND "lifecycle" = 'registered'`;

/**
 * Writes a batch of gateway reports in one transaction on the synchronous connection: each cluster's live state
 * (its report counter incremented once per applied entry), first reports turning clusters active, and each
 * gateway's last applied seq. Prepared statements cost microseconds; one Prisma call per cluster would cap
 * ingestion far below 20 000 reports/s.
 */
export function writeReports(
  sql: SqlStore,
  input: {
    batch: readonly PendingReport[];
    now: number;
    health: (entry: ClusterReportT) => HealthT;
    registered: (cluster: string) => boolean;
  },
): Promise<void> {
  const upsert = sql.stmt(UPSERT_LIVE);
  const setSeq = sql.stmt(SET_SEQ);
  const activate = sql.stmt(ACTIVATE);
  return sql.write(() => {
    const lastSeq = new Map<string, number>();
    for (const r of input.batch) {
      lastSeq.set(r.gateway, Math.max(lastSeq.get(r.gateway) ?? -1, r.seq));
      for (const e of r.entries) {
        upsert.run(e.cluster, JSON.stringify(e), input.now, input.health(e));
        if (input.registered(e.cluster)) activate.run(e.cluster);
      }
    }
    for (const [gateway, seq] of lastSeq) setSeq.run(seq, gateway, seq);
  });
}

/** Records health changes found by the sweeper, in one transaction (a silent gateway turns hundreds at once). */
export async function writeHealth(sql: SqlStore, changes: readonly { cluster: string; to: HealthT }[]): Promise<void> {
  if (changes.length === 0) return;
  const update = sql.stmt('UPDATE "ClusterLive" SET "health" = ? WHERE "cluster" = ?');
  await sql.write(() => {
    for (const c of changes) update.run(c.to, c.cluster);
  });
}

/** Loads every cluster with its live state, for the in-memory table at start-up. */
export async function loadClusters(prisma: PrismaClient): Promise<ClusterState[]> {
  const [clusters, live] = await Promise.all([prisma.cluster.findMany(), prisma.clusterLive.findMany()]);
  const byId = new Map(live.map((l) => [l.cluster, l]));
  return clusters.map((c) => {
    const l = byId.get(c.id);
    const spec: ClusterSpec = {
      ...(JSON.parse(c.spec) as Omit<ClusterSpec, 'lifecycle'>),
      lifecycle: c.lifecycle as MemberLifecycleT,
    };
    return {
      spec,
      report: l ? (JSON.parse(l.report) as ClusterReportT) : null,
      lastReportAt: l ? l.lastReportAt : null,
      health: (l?.health as HealthT | undefined) ?? 'down',
      reports: l?.reports ?? 0,
    };
  });
}
