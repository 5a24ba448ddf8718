import { z } from 'zod';

const Quota = z.strictObject({
  cpuCores: z.number().nonnegative().optional(),
  memoryGib: z.number().nonnegative().optional(),
  cards: z.number().int().nonnegative().optional(),
});

/** Scheduling settings of a node (part of NodeConfig). Cluster silence is judged by resource aggregation's health. */
export const SchedulingConfig = z.strictObject({
  tickMs: z.number().int().min(10).default(500).describe('how often failover, failback and the queue are checked'),
  summaryMs: z
    .number()
    .int()
    .min(10)
    .default(1000)
    .describe('how often the summary with the scheduling figures (also the heartbeat) goes to the parent, directly'),
  childDownAfterMs: z
    .number()
    .int()
    .min(10)
    .default(10_000)
    .describe('a child whose last summary is this old is taken as down; jobs placed through it are re-placed'),
  retryMs: z
    .number()
    .int()
    .min(10)
    .default(5000)
    .describe('queued jobs are retried across the hierarchy at most this often'),
  ackTimeoutMs: z.number().int().min(10).default(3000).describe('how long a dispatch waits for the gateway'),
  meteringMs: z
    .number()
    .int()
    .min(10)
    .default(5000)
    .describe('how often metering totals are considered for the parent'),
  quotas: z.record(z.string(), Quota).default({}).describe('per-tenant limits enforced by this node'),
  defaultQuota: Quota.default({ cpuCores: 200_000, memoryGib: 1_000_000, cards: 20_000 }).describe(
    "limits of a tenant of this node with no entry in `quotas`: its unfinished jobs' demand (replicas × demand)",
  ),
  maxQueueMs: z
    .number()
    .int()
    .min(1000)
    .default(24 * 3_600_000)
    .describe('a job queued this long after its submission fails with the reasons it could not be placed'),
  fairness: z
    .strictObject({
      weights: z
        .record(z.string(), z.number().positive())
        .default({})
        .describe('tenant weights (> 0) by tenant name; a tenant not named weighs 1'),
      agingPerHour: z
        .number()
        .nonnegative()
        .default(2)
        .describe('priority points a waiting job gains per hour it waits (node time)'),
      backfill: z
        .boolean()
        .default(true)
        .describe('short jobs with a declared duration may run ahead when they do not delay the head of the queue'),
    })
    .nullable()
    .default({ weights: {}, agingPerHour: 2, backfill: true })
    .describe(
      "fair admission when jobs wait for this node's own capacity: weighted dominant-resource fairness among " +
        'tenants, aging and backfill; null turns it off. With nothing waiting, a job is placed at once as before',
    ),
  failback: z
    .strictObject({
      minHealthyMs: z.number().int().min(0).optional(),
      minImprovement: z.number().min(0).max(1).optional(),
      minMoveIntervalMs: z.number().int().min(0).optional(),
    })
    .default({})
    .describe('hysteresis of failback (the scheduler defaults: 5 min healthy, 5 % cheaper, 10 min between moves)'),
});

/** Validated scheduling settings. */
export type SchedulingConfig = z.output<typeof SchedulingConfig>;
