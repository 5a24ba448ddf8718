import { z } from 'zod';
import { Health, message, NodeLifecycle, NodeRole, Prefix, Time, Url } from './primitives.ts';

/** `GET /cpn/v1/node`: who this node is. */
export const NodeInfo = message({
  code: Prefix,
  role: NodeRole,
  prefix: Prefix,
  name: z.string().min(1).max(200),
  parent: Prefix.nullable(),
  parentUrl: Url.nullable(),
  lifecycle: NodeLifecycle,
  health: Health,
  protocol: z.string(),
  startedAt: Time,
  now: Time,
  certificate: z.string().optional().describe('the node certificate (PEM), once it has one'),
  chain: z.array(z.string()).optional().describe('issuer certificates up to the national root (PEM)'),
  publicKey: z.string().optional().describe('the node public key (PEM SPKI)'),
  tlsEndpoint: Url.optional().describe(
    'the https endpoint for node links, served with the node certificate once it has one',
  ),
});
export type NodeInfo = z.output<typeof NodeInfo>;

/** The ND record data of a node in its parent's namespace. */
export const NodeRecordData = message({
  prefix: Prefix,
  role: NodeRole,
  endpoint: Url,
  tlsEndpoint: Url.optional().describe('the https endpoint for node links, when the node serves one'),
  certificate: z.string().min(1),
  lifecycle: NodeLifecycle,
  health: Health,
});
export type NodeRecordData = z.output<typeof NodeRecordData>;

/** A lifecycle change ordered by a parent (应急处置: suspend, reinstate, revoke). */
export const EmergencyAction = message({
  target: z.string().min(1).max(64),
  action: z.enum(['suspend', 'reinstate', 'revoke']),
  reason: z.string().min(1).max(2000),
});
export type EmergencyAction = z.output<typeof EmergencyAction>;
