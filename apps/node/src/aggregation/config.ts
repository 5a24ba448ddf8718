import { z } from 'zod';

/** Resource aggregation settings of a node (part of NodeConfig). */
export const AggregationConfig = z
  .strictObject({
    degradedAfterMs: z.number().int().min(10).default(15_000).describe('a cluster silent this long turns degraded'),
    downAfterMs: z.number().int().min(10).default(45_000).describe('a cluster silent this long turns down'),
    sweepMs: z.number().int().min(10).default(1000).describe('how often health is re-evaluated'),
    summaryMs: z.number().int().min(10).default(5000).describe('how often a summary is considered for sending upward'),
    summaryMaxIntervalMs: z.number().int().min(10).default(60_000).describe('send a summary at least this often'),
    dampingThreshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe('relative change of available capacity that is material'),
    eventShipMs: z.number().int().min(10).default(1000).describe('how often forwarded events are queued upward'),
  })
  .refine((c) => c.downAfterMs > c.degradedAfterMs, {
    message: 'downAfterMs must be longer than degradedAfterMs',
    path: ['downAfterMs'],
  });

/** Validated aggregation settings. */
export type AggregationConfig = z.output<typeof AggregationConfig>;

/** Event-log settings: retention (at least 180 days: network-operation logs are kept six months or more). */
export const RetentionConfig = z.strictObject({
  days: z.number().int().min(180).default(180),
  sweepMs: z.number().int().min(1000).default(3_600_000),
});

/** Validated retention settings. */
export type RetentionConfig = z.output<typeof RetentionConfig>;
