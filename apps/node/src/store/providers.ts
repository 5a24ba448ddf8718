import type { ClusterReport, Health, MemberLifecycle } from '@cpnet/protocol';
import type { SqliteConnection } from './connection.ts';
import type { PendingReport } from '../gateway/ingest.ts';
import type { ClusterSpec, ClusterState } from '../aggregation/types.ts';

/** A compute supplier (算力提供方) registered at this node. */
export interface ProviderRow {
  readonly id: string;
  readonly creditCode: string;
  readonly name: string;
  readonly province: string;
  readonly city: string;
  /** PEM (SPKI) public key. */
  readonly publicKey: string;
  /** registered | active | suspended | revoked */
  readonly lifecycle: string;
  readonly registeredAt: string;
}

/** A cluster registration: its declared spec (JSON-serialisable) and lifecycle. */
export interface NewCluster {
  readonly id: string;
  readonly provider: string;
  readonly spec: object;
  readonly lifecycle: string;
  readonly registeredAt: string;
}

/** A child's latest subtree summary (JSON text). */
export interface ChildSummaryRow {
  readonly node: string;
  readonly summary: string;
}

/**
 * Providers, their clusters, the clusters' live state from gateway reports, and the children's resource summaries.
 * Called inside `NodeStores.write`, the methods join its transaction.
 */
export interface ProviderStore {
  /** Every provider, by id. */
  all(): Promise<ProviderRow[]>;
  byCreditCode(creditCode: string): Promise<ProviderRow | undefined>;
  lifecycleOf(id: string): Promise<string | undefined>;
  /** The last gateway report seq durably applied for a provider (−1: none). */
  lastReportSeq(id: string): Promise<number>;
  addProvider(row: ProviderRow): Promise<void>;
  setProviderLifecycle(id: string, lifecycle: string): Promise<void>;
  addCluster(cluster: NewCluster): Promise<void>;
  setClusterLifecycle(id: string, lifecycle: string): Promise<void>;
  /** The declared spec of a cluster (parsed JSON), or null. */
  clusterSpec(id: string): Promise<Record<string, unknown> | null>;
  /** Every cluster with its live state, for the in-memory table at start-up. */
  clusters(): Promise<ClusterState[]>;
  /**
   * Writes a batch of gateway reports in one transaction: each cluster's live state (its report counter incremented
   * once per applied entry), first reports turning clusters active, and each gateway's last applied seq.
   */
  writeReports(input: {
    batch: readonly PendingReport[];
    now: number;
    health: (entry: ClusterReport) => Health;
    registered: (cluster: string) => boolean;
  }): Promise<void>;
  /** Records health changes found by the sweeper, in one transaction. */
  writeHealth(changes: readonly { cluster: string; to: Health }[]): Promise<void>;
  childSummaries(): Promise<ChildSummaryRow[]>;
  /** Keeps a child's latest summary. */
  putChildSummary(input: { node: string; at: string; summary: string; receivedAt: string }): Promise<void>;
}

const UPSERT_LIVE = `INSERT INTO "ClusterLive" ("cluster", "report", "lastReportAt", "health", "reports") VALUES (?, ?, ?, ?, ?)
  ON CONFLICT ("cluster") DO UPDATE SET "report" = excluded."report", "lastReportAt" = excluded."lastReportAt",
  "health" = excluded."health", "reports" = "ClusterLive"."reports" + excluded."reports"`;
/**
 * Clusters their gateway reported unchanged, with the same health and count (nearly all of a batch): the rows' report
 * stays, their liveness and counter move — one statement for the lot (a JSON list of identifiers).
 */
const TOUCH_LIVE = `UPDATE "ClusterLive" SET "lastReportAt" = ?, "health" = ?, "reports" = "reports" + ?
  WHERE "cluster" IN (SELECT "value" FROM json_each(?))`;
const SET_SEQ = 'UPDATE "Provider" SET "lastReportSeq" = ? WHERE "id" = ? AND "lastReportSeq" < ?';
const ACTIVATE = `UPDATE "Cluster" SET "lifecycle" = 'active' WHERE "id" = ? AND "lifecycle" = 'registered'`;
const UPSERT_CHILD = `INSERT INTO "ChildSummary" ("node", "at", "summary", "receivedAt") VALUES (?, ?, ?, ?)
  ON CONFLICT ("node") DO UPDATE SET "at" = excluded."at", "summary" = excluded."summary", "receivedAt" = excluded."receivedAt"`;
const INSERT_PROVIDER = `INSERT INTO "Provider" ("id", "name", "creditCode", "province", "city", "publicKey", "lifecycle", "registeredAt",
  "lastReportSeq") VALUES (?, ?, ?, ?, ?, ?, ?, ?, -1)`;

/**
 * The SQLite provider store. Reports go through prepared statements on the synchronous connection: one Prisma call
 * per cluster would cap ingestion far below 20 000 reports/s.
 */
export function sqliteProviderStore({ prisma, sql }: SqliteConnection): ProviderStore {
  return {
    all: () =>
      prisma.provider.findMany({
        orderBy: { id: 'asc' },
        select: {
          id: true,
          creditCode: true,
          name: true,
          province: true,
          city: true,
          publicKey: true,
          lifecycle: true,
          registeredAt: true,
        },
      }),
    byCreditCode: async (creditCode) =>
      sql
        .stmt(
          `SELECT "id", "creditCode", "name", "province", "city", "publicKey", "lifecycle", "registeredAt"
            FROM "Provider" WHERE "creditCode" = ?`,
        )
        .get(creditCode) as ProviderRow | undefined,
    lifecycleOf: async (id) =>
      (sql.stmt('SELECT "lifecycle" FROM "Provider" WHERE "id" = ?').get(id) as { lifecycle: string } | undefined)
        ?.lifecycle,
    lastReportSeq: async (id) =>
      (await prisma.provider.findUnique({ where: { id }, select: { lastReportSeq: true } }))?.lastReportSeq ?? -1,
    async addProvider(r) {
      sql
        .stmt(INSERT_PROVIDER)
        .run(r.id, r.name, r.creditCode, r.province, r.city, r.publicKey, r.lifecycle, r.registeredAt);
    },
    async setProviderLifecycle(id, lifecycle) {
      await sql.write(() => sql.stmt('UPDATE "Provider" SET "lifecycle" = ? WHERE "id" = ?').run(lifecycle, id));
    },
    async addCluster(c) {
      sql
        .stmt('INSERT INTO "Cluster" ("id", "provider", "spec", "lifecycle", "registeredAt") VALUES (?, ?, ?, ?, ?)')
        .run(c.id, c.provider, JSON.stringify(c.spec), c.lifecycle, c.registeredAt);
    },
    async setClusterLifecycle(id, lifecycle) {
      await sql.write(() => sql.stmt('UPDATE "Cluster" SET "lifecycle" = ? WHERE "id" = ?').run(lifecycle, id));
    },
    async clusterSpec(id) {
      // Once per cluster known to the scheduler (10,093 at full scale): a prepared statement, not a Prisma query.
      const row = sql.stmt('SELECT "spec" FROM "Cluster" WHERE "id" = ?').get(id) as { spec: string } | undefined;
      return row ? (JSON.parse(row.spec) as Record<string, unknown>) : null;
    },
    async clusters() {
      const [clusters, live] = await Promise.all([prisma.cluster.findMany(), prisma.clusterLive.findMany()]);
      const byId = new Map(live.map((l) => [l.cluster, l]));
      return clusters.map((c) => {
        const l = byId.get(c.id);
        const spec: ClusterSpec = {
          ...(JSON.parse(c.spec) as Omit<ClusterSpec, 'lifecycle'>),
          lifecycle: c.lifecycle as MemberLifecycle,
        };
        return {
          spec,
          report: l ? (JSON.parse(l.report) as ClusterReport) : null,
          lastReportAt: l ? l.lastReportAt : null,
          health: (l?.health as Health | undefined) ?? 'down',
          reports: l?.reports ?? 0,
        };
      });
    },
    writeReports(input) {
      const upsert = sql.stmt(UPSERT_LIVE);
      const touch = sql.stmt(TOUCH_LIVE);
      const setSeq = sql.stmt(SET_SEQ);
      const activate = sql.stmt(ACTIVATE);
      return sql.write(() => {
        // A cluster reported twice in one batch (a gateway's reports queued behind a commit) is written once: its
        // latest entry, its counter raised by both — the row the two upserts in turn would leave, for half the work.
        // An entry the gateway named unchanged is the row's report already: only its liveness and counter move,
        // unless an entry sent in full in the same batch rewrites the row.
        const live = new Map<string, { entry: ClusterReport; count: number; same: boolean }>();
        const lastSeq = new Map<string, number>();
        for (const r of input.batch) {
          lastSeq.set(r.gateway, Math.max(lastSeq.get(r.gateway) ?? -1, r.seq));
          for (const e of r.entries) {
            const same = r.unchanged?.has(e.cluster) ?? false;
            const held = live.get(e.cluster);
            if (held) {
              held.entry = e;
              held.count += 1;
              held.same &&= same;
            } else live.set(e.cluster, { entry: e, count: 1, same });
          }
        }
        const touched = new Map<string, string[]>();
        for (const [cluster, { entry, count, same }] of live) {
          if (same) {
            const key = `${input.health(entry)} ${count}`;
            const list = touched.get(key);
            if (list) list.push(cluster);
            else touched.set(key, [cluster]);
          } else upsert.run(cluster, JSON.stringify(entry), input.now, input.health(entry), count);
          if (input.registered(cluster)) activate.run(cluster);
        }
        for (const [key, clusters] of touched) {
          const [health, count] = key.split(' ') as [string, string];
          touch.run(input.now, health, Number(count), JSON.stringify(clusters));
        }
        for (const [gateway, seq] of lastSeq) setSeq.run(seq, gateway, seq);
      });
    },
    async writeHealth(changes) {
      if (changes.length === 0) return;
      const update = sql.stmt('UPDATE "ClusterLive" SET "health" = ? WHERE "cluster" = ?');
      await sql.write(() => {
        for (const c of changes) update.run(c.to, c.cluster);
      });
    },
    childSummaries: () => prisma.childSummary.findMany({ select: { node: true, summary: true } }),
    async putChildSummary(s) {
      sql.stmt(UPSERT_CHILD).run(s.node, s.at, s.summary, s.receivedAt);
    },
  };
}
