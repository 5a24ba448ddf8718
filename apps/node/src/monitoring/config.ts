import { z } from 'zod';

/** Monitoring settings of a node (part of NodeConfig). */
export const MonitoringConfig = z.strictObject({
  flowsMs: z
    .number()
    .int()
    .min(10)
    .default(10_000)
    .describe('virtual ms: how often per-province flow counters (job.flows) go to the ancestors'),
  historyMs: z
    .number()
    .int()
    .min(1000)
    .default(900_000)
    .describe('virtual ms of events a viewer receives on connecting (15 minutes)'),
  historyMax: z.number().int().min(10).max(20_000).default(5000).describe('events sent on connecting at most'),
  // socket.io's own defaults are 25 s + 20 s; 10 s + 10 s notices a silent link within 20 s of wall time without
  // dropping gateway sockets of a node whose event loop is busy for a few seconds (a dropped connection, as of a
  // killed node, is noticed at once whatever these say).
  linkPingMs: z
    .number()
    .int()
    .min(50)
    .default(10_000)
    .describe("wall ms between socket.io pings on the node's sockets (a silent link is noticed after ping + timeout)"),
  linkPingTimeoutMs: z.number().int().min(50).default(10_000).describe('wall ms a ping waits for its pong'),
  linkRetryMs: z
    .number()
    .int()
    .min(50)
    .default(2000)
    .describe("wall ms before a child tries its parent's /link again after a refused handshake"),
});

/** Validated monitoring settings. */
export type MonitoringConfig = z.output<typeof MonitoringConfig>;
