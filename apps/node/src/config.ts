import { z } from 'zod';
import { BODY_LIMIT_BYTES, NodeRole, Prefix, TimeInput } from '@cpnet/protocol';
import { prefixLevel } from '@cpnet/identifier';
import { AggregationConfig, RetentionConfig } from './aggregation/config.ts';
import { MonitoringConfig } from './monitoring/config.ts';
import { SchedulingConfig } from './scheduling/config.ts';
import { LimitsConfig } from './limits.ts';

/** The configuration of a node, from flags, environment and a config file; validated at start. */
export const NodeConfig = z
  .strictObject({
    role: NodeRole,
    code: Prefix.describe('the node code = its prefix: CPN, CPN.51, CPN.51.C151'),
    name: z.string().min(1).max(200).optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(7000),
    dataDir: z
      .string()
      .min(1)
      .describe('folder of the SQLite file (unless --database) and the exported root certificate'),
    database: z
      .url({
        protocol: /^postgres(ql)?$/,
        hostname: /^.+$/,
        error: '--database (CPNET_DATABASE_URL) must be a postgres://user:password@host:port/database URL',
      })
      .optional()
      .describe(
        'PostgreSQL instead of SQLite: postgres://user:password@host:port/database (the database must exist; ' +
          'migrations are applied at start). Absent: the SQLite file node.db in the data folder',
      ),
    parentUrl: z.url({ protocol: /^https?$/ }).optional(),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('the endpoint this node advertises (default http://host:port)'),
    aliases: z
      .array(z.url({ protocol: /^https?$/ }))
      .max(256)
      .default([])
      .describe(
        'other URLs this node is reached at (a load balancer, a standby endpoint, a proxy that keeps the Host header): ' +
          'signatures are accepted only for its own URLs and these',
      ),
    trustAnchor: z.string().min(1).optional().describe('path of the national root certificate (PEM)'),
    applicationFile: z.string().min(1).optional().describe('JSON file with the application (申报) data'),
    guideFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "the province's guide (guides/sichuan-2026.yaml): dossiers and the full review chain; " +
          'without one the node runs the rehearsal chain (one reviewer, or auto-review)',
      ),
    passphraseFile: z
      .string()
      .min(1)
      .optional()
      .describe('file holding the passphrase of the private key at rest (CPNET_KEY_PASSPHRASE wins)'),
    acceptance: z
      .enum(['authority', 'automatic'])
      .default('automatic')
      .describe(
        'how children that passed joint debugging are accepted (验收): authority (an acceptance officer decides on ' +
          'the evidence pack; `cpnet node start` defaults to it) or automatic (simulations and `cpnet check` rehearsals)',
      ),
    acceptancePollMs: z
      .number()
      .int()
      .min(10)
      .default(60_000)
      .describe(
        'node time between joint-debugging runs of a node that passed and waits for its acceptance decision (待验收)',
      ),
    acceptanceSweepMs: z
      .number()
      .int()
      .min(1000)
      .default(3_600_000)
      .describe('node time between sweeps that flag overdue milestones, windows and conditions to the authority'),
    autoReview: z.boolean().default(false).describe('decide applications by the rules alone (simulations)'),
    applicationDeadline: TimeInput.optional().describe(
      'applications received after this are refused (逾期不再受理); any RFC 3339 offset, kept in UTC',
    ),
    certificateLifetimeDays: z.coerce
      .number()
      .int()
      .min(3)
      .max(3650)
      .default(365)
      .describe(
        'how long the certificates and delegations this node issues to its children are valid; children renew after two thirds',
      ),
    bodyLimitBytes: z.coerce
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(BODY_LIMIT_BYTES),
    cacheEntries: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
    retry: z
      .strictObject({
        initialMs: z.number().int().min(10).default(500),
        maxMs: z.number().int().min(10).default(30_000),
      })
      .default({ initialMs: 500, maxMs: 30_000 }),
    pollMs: z
      .number()
      .int()
      .min(10)
      .default(1000)
      .describe('how often an applicant asks its parent about its application'),
    linkTimeoutMs: z.number().int().min(50).default(3000),
    keepAliveMs: z
      .number()
      .int()
      .min(1000)
      .max(600_000)
      .default(65_000)
      .describe(
        'wall ms an idle HTTP connection to this node stays open for its next request (peers keep theirs 60 s)',
      ),
    resolution: z
      .strictObject({
        copyAfterMs: z
          .number()
          .int()
          .min(10)
          .max(60_000)
          .default(1000)
          .describe(
            'wall ms a forwarded resolution waits for the next hop when this node holds a copy, before answering from the copy',
          ),
        hopDownMs: z
          .number()
          .int()
          .min(0)
          .max(600_000)
          .default(5000)
          .describe('wall ms after a hop failed to answer during which held copies answer at once, without asking it'),
      })
      .default({ copyAfterMs: 1000, hopDownMs: 5000 }),
    outboxLingerMs: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(10)
      .describe(
        'how long the outbox waits before sending, so deliveries queued meanwhile to the same peer merge into one request',
      ),
    durability: z
      .enum(['power-loss', 'crash'])
      .default('power-loss')
      .describe(
        'power-loss (SQLite synchronous=FULL, every commit fsynced): nothing acknowledged is lost even if the machine loses power; ' +
          'crash (synchronous=NORMAL in WAL mode): nothing is lost when the process dies, but the last commits may be ' +
          'lost on power loss — ' +
          'for simulations of many nodes on one machine',
      ),
    sqliteCacheKib: z
      .number()
      .int()
      .min(64)
      .max(1_048_576)
      .default(16_000)
      .describe(
        "KiB of SQLite page cache for the hot-path connection (better-sqlite3's default, 16,000); Prisma's connection " +
          '(cold paths) keeps 512. Lower it when many nodes share one process (the simulator: 2,048)',
      ),
    verifyOffLoop: z
      .boolean()
      .default(true)
      .describe(
        "check request signatures (Ed25519) on libuv's thread pool, so the event loop serves other requests meanwhile; " +
          'false checks them on the loop (simulations of many nodes in one process, whose loops already fill the cores)',
      ),
    tls: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe("also serve node links over HTTPS with the node certificate, and prefer peers' HTTPS endpoints"),
        port: z.coerce.number().int().min(0).max(65535).default(7443).describe('HTTPS listen port (0 = any)'),
        publicUrl: z
          .url({ protocol: /^https$/ })
          .optional()
          .describe('the HTTPS endpoint advertised (default https://host:port)'),
      })
      .prefault({})
      .describe("TLS node links with the PKI's certificates"),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    aggregation: AggregationConfig.prefault({}).describe('cluster health timeouts, summary damping and intervals'),
    scheduling: SchedulingConfig.prefault({}).describe('failover, failback, quotas and the placement protocol timings'),
    monitoring: MonitoringConfig.prefault({}).describe(
      'flow counters, history for late viewers, and the /link socket that tells a parent its child is gone',
    ),
    retention: RetentionConfig.prefault({}).describe('event log retention (at least 180 days)'),
    limits: LimitsConfig.prefault({}).describe('throttles of logins and applications (per account, key and address)'),
  })
  .superRefine((c, ctx) => {
    const level = prefixLevel(c.code);
    if (level !== c.role)
      ctx.addIssue({
        code: 'custom',
        path: ['code'],
        message: `${c.code} is a ${level} prefix, but role is ${c.role}`,
      });
    if (c.role !== 'national' && c.parentUrl === undefined)
      ctx.addIssue({ code: 'custom', path: ['parentUrl'], message: `a ${c.role} node needs the URL of its parent` });
  });

/** A validated node configuration. */
export type NodeConfig = z.output<typeof NodeConfig>;
/** What a caller may write (defaults filled in by validation). */
export type NodeConfigInput = z.input<typeof NodeConfig>;
