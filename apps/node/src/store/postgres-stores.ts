// The PostgreSQL implementation of the store ports. The hot paths (identifiers, outbox, nonces, idempotency keys,
// events, jobs, audit, settings, providers' reports, the peer lookup) are SQL on node-postgres, as they are SQL on
// better-sqlite3 for SQLite; the cold paths are the same Prisma calls as on SQLite, on the client generated from
// schema.postgres.prisma (the same models, so the same API).
import { PrismaPg } from '@prisma/adapter-pg';
import type { ClusterReport, JobState, MeteringLine } from '@cpnet/protocol';
import { JobHistoryEntry, TaskTemplate } from '@cpnet/protocol';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { PrismaClient as PostgresPrismaClient } from '../generated/prisma-postgres/client.ts';
import { isFinal, type JobRecord } from '../scheduling/job-machine.ts';
import { matches } from '../scheduling/metering.ts';
import { sqliteAcceptanceStore } from './acceptance.ts';
import { sqliteAccountStore } from './accounts.ts';
import { sqliteApplicationStore } from './applications.ts';
import type { AuditStore } from './audit.ts';
import type { SqliteConnection } from './connection.ts';
import { sqliteDossierStore } from './dossiers.ts';
import { sqliteEventStore, type EventStore, type StoredEvent } from './events.ts';
import type { IdempotencyStore } from './idempotency.ts';
import { sqliteIdentifierStore, type IdentifierStore } from './identifiers.ts';
import type { JobRow, NodeJobStore } from './jobs.ts';
import { sqliteJointDebugStore } from './joint-debug.ts';
import { applyPostgresMigrations } from './migrate-postgres.ts';
import type { SeenNonceStore } from './nonces.ts';
import type { DeadLetter, Delivery, OutboxStore, QueuedDelivery } from './outbox.ts';
import { sqlitePeerStore, type PeerLink, type PeerStore } from './peers.ts';
import { countingClient, openPgSql, type DatabaseWork, type PgSql } from './pg-sql.ts';
import { sqliteProviderStore, type ProviderRow, type ProviderStore } from './providers.ts';
import { rawParams, rawToWire, type RawRecordRow } from './records.ts';
import type { SettingStore } from './settings.ts';
import type { NodeStores } from './stores.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The Prisma-only parts of the SQLite stores run unchanged on the PostgreSQL client: both clients are generated from
 * one schema, so their model API is the same (the cast says so; the type names differ). The better-sqlite3
 * connection does not exist here: any use of it throws, so a hot path left on it cannot pass unnoticed.
 */
function coldConnection(prisma: PostgresPrismaClient): SqliteConnection {
  const absent = new Proxy({} as SqliteConnection['sql'], {
    get(_target, key) {
      throw new Error(`the SQLite connection (sql.${String(key)}) was used by a PostgreSQL store`);
    },
  });
  return { prisma: prisma as unknown as PrismaClient, sql: absent };
}

const RECORD_COLUMNS = `"id", "prefix", "kind", "serial", "ownerNode", "version", "status", "values", "createdAt", "updatedAt"`;
const RECORD_VALUES = '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10';

function identifiers(sql: PgSql, cold: IdentifierStore): IdentifierStore {
  return {
    ...cold,
    async byId(id) {
      const { rows } = await sql.query<RawRecordRow>('SELECT * FROM "IdentifierRecord" WHERE "id" = $1', [id]);
      return rows[0] ? rawToWire(rows[0]) : null;
    },
    async versionOf(id) {
      const { rows } = await sql.query<{ version: number }>(
        'SELECT "version" FROM "IdentifierRecord" WHERE "id" = $1',
        [id],
      );
      return rows[0]?.version;
    },
    async insert(record, parts) {
      await sql.query(
        `INSERT INTO "IdentifierRecord" (${RECORD_COLUMNS}) VALUES (${RECORD_VALUES})`,
        rawParams(record, parts),
      );
    },
    async put(record, parts) {
      await sql.query(
        `INSERT INTO "IdentifierRecord" (${RECORD_COLUMNS}) VALUES (${RECORD_VALUES}) ON CONFLICT ("id") DO UPDATE SET
          "prefix" = excluded."prefix", "kind" = excluded."kind", "serial" = excluded."serial",
          "ownerNode" = excluded."ownerNode", "version" = excluded."version", "status" = excluded."status",
          "values" = excluded."values", "createdAt" = excluded."createdAt", "updatedAt" = excluded."updatedAt"`,
        rawParams(record, parts),
      );
    },
    async takeSerial(i) {
      const r = await sql.query(
        `INSERT INTO "AllocatedSerial" ("prefix", "serial", "kind", "allocatedAt") VALUES ($1, $2, $3, $4)
          ON CONFLICT DO NOTHING`,
        [i.prefix, i.serial, i.kind, iso(i.at)],
      );
      return r.rowCount === 1;
    },
  };
}

function nonces(sql: PgSql): SeenNonceStore {
  return {
    async add(keyid, nonce, expiresAt) {
      const r = await sql.query(
        'INSERT INTO "SeenNonce" ("keyid", "nonce", "expiresAt") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [keyid, nonce, iso(expiresAt)],
      );
      return r.rowCount === 1;
    },
    async sweep(at) {
      await sql.query('DELETE FROM "SeenNonce" WHERE "expiresAt" < $1', [iso(at)]);
    },
  };
}

function idempotency(sql: PgSql): IdempotencyStore {
  return {
    async get(key) {
      const { rows } = await sql.query<{ response: string }>(
        'SELECT "response" FROM "IdempotencyKey" WHERE "key" = $1',
        [key],
      );
      return rows[0]?.response;
    },
    async claim(key, response, at) {
      const r = await sql.query(
        'INSERT INTO "IdempotencyKey" ("key", "response", "createdAt") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [key, response, iso(at)],
      );
      return r.rowCount === 1;
    },
  };
}

function audit(sql: PgSql): AuditStore {
  return {
    entries: async () =>
      (await sql.query<{ entry: string }>('SELECT "entry" FROM "AuditRecord" ORDER BY "seq"')).rows.map((r) => r.entry),
    async append(entry) {
      await sql.query('INSERT INTO "AuditRecord" ("entry") VALUES ($1)', [entry]);
    },
  };
}

function settings(sql: PgSql): SettingStore {
  return {
    all: async () =>
      new Map(
        (await sql.query<{ key: string; value: string }>('SELECT "key", "value" FROM "NodeSetting"')).rows.map((s) => [
          s.key,
          s.value,
        ]),
      ),
    async put(key, value) {
      await sql.query(
        `INSERT INTO "NodeSetting" ("key", "value") VALUES ($1, $2)
          ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"`,
        [key, value],
      );
    },
  };
}

function events(sql: PgSql, cold: EventStore): EventStore {
  return {
    ...cold,
    async add(e) {
      const r = await sql.query(
        `INSERT INTO "EventRecord" ("id", "type", "at", "subject", "severity", "data", "node")
          VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [e.id, e.type, e.at, e.subject, e.severity, e.data, e.node],
      );
      return r.rowCount === 1;
    },
    newestSeq: async () =>
      (await sql.query<{ m: number | null }>('SELECT MAX("seq") AS m FROM "EventRecord"')).rows[0]?.m ?? 0,
    async recent(q) {
      const { rows } = await sql.query<StoredEvent>(
        `SELECT * FROM "EventRecord" WHERE "at" >= $1 AND NOT ("type" = ANY($2::text[]))
          ORDER BY "seq" DESC LIMIT $3`,
        [q.since, [...q.leaveOut], q.limit],
      );
      return rows.reverse();
    },
    async ofTypes(q) {
      const { rows } = await sql.query<StoredEvent>(
        `SELECT * FROM "EventRecord" WHERE "seq" > $1 AND "seq" <= $2 AND "type" = ANY($3::text[])
          ORDER BY "seq" LIMIT $4`,
        [q.after, q.upTo, [...q.types], q.limit],
      );
      return rows;
    },
  };
}

const ADD_DELIVERY = 'INSERT INTO "Outbox" ("kind", "payload", "attempts", "nextAt") VALUES ($1, $2, 0, $3)';

function outbox(sql: PgSql): OutboxStore {
  return {
    async add(delivery, at) {
      await sql.query(ADD_DELIVERY, [delivery.path, JSON.stringify(delivery), iso(at)]);
    },
    oldest: async (limit) =>
      (await sql.query<QueuedDelivery>('SELECT "id", "payload" FROM "Outbox" ORDER BY "id" LIMIT $1', [limit])).rows,
    async remove(ids) {
      await sql.query('DELETE FROM "Outbox" WHERE "id" = ANY($1::int[])', [[...ids]]);
    },
    async failed(ids) {
      await sql.query('UPDATE "Outbox" SET "attempts" = "attempts" + 1 WHERE "id" = ANY($1::int[])', [[...ids]]);
    },
    count: async () => (await sql.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM "Outbox"')).rows[0]!.n,
    async bury(id, refusal) {
      const { rows } = await sql.query<{ kind: string; payload: string }>(
        'DELETE FROM "Outbox" WHERE "id" = $1 RETURNING "kind", "payload"',
        [id],
      );
      const row = rows[0];
      if (!row) return;
      await sql.query(
        'INSERT INTO "OutboxDeadLetter" ("kind", "payload", "status", "answer", "failedAt") VALUES ($1, $2, $3, $4, $5)',
        [
          row.kind,
          refusal.delivery ? JSON.stringify(refusal.delivery) : row.payload,
          refusal.status,
          JSON.stringify(refusal.answer ?? null),
          iso(refusal.at),
        ],
      );
    },
    async deadLetters(): Promise<DeadLetter[]> {
      const { rows } = await sql.query<{
        id: number;
        payload: string;
        status: number;
        answer: string;
        failedAt: string;
      }>('SELECT "id", "payload", "status", "answer", "failedAt" FROM "OutboxDeadLetter" ORDER BY "id"');
      return rows.map((r) => ({
        id: r.id,
        delivery: JSON.parse(r.payload) as Delivery,
        status: r.status,
        answer: JSON.parse(r.answer) as unknown,
        failedAt: new Date(r.failedAt).toISOString(),
      }));
    },
    async revive(at, ids) {
      const { rows } = await sql.query<{ id: number; kind: string; payload: string }>(
        'SELECT "id", "kind", "payload" FROM "OutboxDeadLetter" ORDER BY "id"',
      );
      const chosen = rows.filter((r) => !ids || ids.includes(r.id));
      for (const r of chosen) {
        await sql.query(ADD_DELIVERY, [r.kind, r.payload, iso(at)]);
        await sql.query('DELETE FROM "OutboxDeadLetter" WHERE "id" = $1', [r.id]);
      }
      return chosen.length;
    },
  };
}

function peers(sql: PgSql, cold: PeerStore): PeerStore {
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

const PROVIDER_COLUMNS = `"id", "creditCode", "name", "province", "city", "publicKey", "lifecycle", "registeredAt"`;

function providers(sql: PgSql, cold: ProviderStore): ProviderStore {
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

const JOB_COLUMNS = [
  'id',
  'tenant',
  'origin',
  'template',
  'state',
  'attempt',
  'stateAttempt',
  'upstream',
  'downstream',
  'owner',
  'cluster',
  'preferredCluster',
  'submittedAt',
  'finishedAt',
  'dispatchedAt',
  'costYuan',
  'final',
] as const;
const UPSERT_JOB = `INSERT INTO "Job" (${JOB_COLUMNS.map((c) => `"${c}"`).join(', ')})
  VALUES (${JOB_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT ("id") DO UPDATE SET ${JOB_COLUMNS.filter(
    (c) => !['id', 'tenant', 'origin', 'template', 'submittedAt'].includes(c),
  )
    .map((c) => `"${c}" = excluded."${c}"`)
    .join(', ')}`;

function jobs(sql: PgSql): NodeJobStore {
  const load = async (rows: JobRow[]): Promise<JobRecord[]> => {
    if (rows.length === 0) return [];
    const { rows: history } = await sql.query<{ job: string; entry: string }>(
      'SELECT "job", "entry" FROM "JobHistory" WHERE "job" = ANY($1::text[]) ORDER BY "job", "seq"',
      [rows.map((r) => r.id)],
    );
    const byJob = new Map<string, JobHistoryEntry[]>();
    for (const h of history) {
      const list = byJob.get(h.job) ?? [];
      list.push(JobHistoryEntry.parse(JSON.parse(h.entry)));
      byJob.set(h.job, list);
    }
    return rows.map((row) => ({
      id: row.id,
      tenant: row.tenant,
      origin: row.origin,
      template: TaskTemplate.parse(JSON.parse(row.template)),
      upstream: row.upstream,
      downstream: row.downstream,
      owner: row.owner,
      cluster: row.cluster,
      preferredCluster: row.preferredCluster,
      state: row.state as JobState,
      attempt: row.attempt,
      stateAttempt: row.stateAttempt,
      history: byJob.get(row.id) ?? [],
      submittedAt: row.submittedAt,
      finishedAt: row.finishedAt,
      dispatchedAt: row.dispatchedAt,
      costYuan: row.costYuan,
    }));
  };
  return {
    has: async (id) => (await sql.query('SELECT 1 FROM "Job" WHERE "id" = $1', [id])).rows.length > 0,
    async putChildMetering(m) {
      await sql.write(() =>
        sql.query(
          `INSERT INTO "ChildMetering" ("node", "at", "summary") VALUES ($1, $2, $3)
            ON CONFLICT ("node") DO UPDATE SET "at" = excluded."at", "summary" = excluded."summary"`,
          [m.node, m.at, m.summary],
        ),
      );
    },
    childMetering: async () =>
      (await sql.query<{ summary: string }>('SELECT "summary" FROM "ChildMetering" ORDER BY "node"')).rows.map(
        (r) => r.summary,
      ),
    active: async () => load((await sql.query<JobRow>('SELECT * FROM "Job" WHERE NOT "final"')).rows),
    get: async (id) =>
      (await load((await sql.query<JobRow>('SELECT * FROM "Job" WHERE "id" = $1', [id])).rows))[0] ?? null,
    list: async (q) =>
      load(
        (
          await sql.query<JobRow>(
            `SELECT * FROM "Job" WHERE "id" > $1 AND "origin" = $2 AND ($3::text IS NULL OR "tenant" = $3)
              ORDER BY "id" LIMIT $4`,
            [q.after ?? '', q.origin, q.tenant ?? null, q.limit],
          )
        ).rows,
      ),
    save(j) {
      const history = j.history.map((e) => JSON.stringify(e));
      const values = [
        j.id,
        j.tenant,
        j.origin,
        JSON.stringify(j.template),
        j.state,
        j.attempt,
        j.stateAttempt,
        j.upstream,
        j.downstream,
        j.owner,
        j.cluster,
        j.preferredCluster,
        j.submittedAt,
        j.finishedAt,
        j.dispatchedAt,
        j.costYuan,
        isFinal(j.state),
      ];
      return sql.write(async () => {
        await sql.query(UPSERT_JOB, values);
        // The whole history is offered each time; (job, seq) is unique, so what is stored already is ignored.
        const stored = (
          await sql.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM "JobHistory" WHERE "job" = $1', [j.id])
        ).rows[0]!.n;
        if (stored < history.length) {
          const seqs = history.map((_, i) => i).slice(stored);
          await sql.query(
            `INSERT INTO "JobHistory" ("job", "seq", "entry") SELECT $1, * FROM unnest($2::int[], $3::text[])
              ON CONFLICT DO NOTHING`,
            [j.id, seqs, history.slice(stored)],
          );
        }
      });
    },
    addMetering: (l) =>
      sql.write(async () => {
        await sql.query(
          `INSERT INTO "MeteringRecord" ("job", "tenant", "provider", "cluster", "coreHours", "cardHours",
            "amountYuan", "from", "to") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
          [l.job, l.tenant, l.provider, l.cluster, l.coreHours, l.cardHours, l.amountYuan, l.from, l.to],
        );
      }),
    async totals() {
      const by = async (column: 'tenant' | 'provider') =>
        Object.fromEntries(
          (
            await sql.query<{ k: string; jobs: number; coreHours: number; cardHours: number; amountYuan: number }>(
              `SELECT "${column}" AS k, COUNT(DISTINCT "job")::int AS jobs, SUM("coreHours") AS "coreHours",
                SUM("cardHours") AS "cardHours", SUM("amountYuan") AS "amountYuan"
                FROM "MeteringRecord" GROUP BY "${column}"`,
            )
          ).rows.map(({ k, ...t }) => [k, t]),
        );
      return { byTenant: await by('tenant'), byProvider: await by('provider') };
    },
    async metering(q) {
      const { rows } = await sql.query<MeteringLine>(
        `SELECT "job", "tenant", "provider", "cluster", "coreHours", "cardHours", "amountYuan", "from", "to"
          FROM "MeteringRecord" ORDER BY "id"`,
      );
      return rows.filter((l) => matches(l, q));
    },
  };
}

/** The PostgreSQL stores, with their Prisma client (for tools that read the database directly). */
export interface PostgresStores extends NodeStores {
  readonly prisma: PostgresPrismaClient;
  /** Migrations applied while opening (empty when the database was up to date). */
  readonly applied: string[];
}

/**
 * Opens the node's PostgreSQL database at `url` (migrating it if needed) and returns its stores. The database must
 * exist; the user needs the rights to create tables in it (the first start applies the migrations). `work`: every
 * statement (hot paths and Prisma's) and every unit of work is reported as work in flight (a simulator's clock).
 */
export async function openPostgresStores(
  url: string,
  options: { poolSize?: number; work?: DatabaseWork } = {},
): Promise<PostgresStores> {
  const { applied } = await applyPostgresMigrations(url);
  const { work } = options;
  const prisma = new PostgresPrismaClient({
    adapter: new PrismaPg({ connectionString: url, ...(work ? { Client: countingClient(work) } : {}) }),
  });
  await prisma.$connect();
  let sql: PgSql;
  try {
    sql = await openPgSql(url, { max: options.poolSize, work });
  } catch (e) {
    await prisma.$disconnect();
    throw e;
  }
  const conn = coldConnection(prisma);
  return {
    prisma,
    applied,
    write: (fn) => sql.write(fn),
    identifiers: identifiers(sql, sqliteIdentifierStore(conn)),
    applications: sqliteApplicationStore(conn),
    dossiers: sqliteDossierStore(conn),
    jointDebug: sqliteJointDebugStore(conn),
    accounts: sqliteAccountStore(conn),
    peers: peers(sql, sqlitePeerStore(conn)),
    providers: providers(sql, sqliteProviderStore(conn)),
    jobs: jobs(sql),
    outbox: outbox(sql),
    nonces: nonces(sql),
    idempotency: idempotency(sql),
    events: events(sql, sqliteEventStore(conn)),
    audit: audit(sql),
    settings: settings(sql),
    acceptance: sqliteAcceptanceStore(conn),
    async close() {
      await sql.close();
      await prisma.$disconnect();
    },
  };
}
