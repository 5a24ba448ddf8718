import { z } from 'zod';
import { Health, MemberLifecycle, message, NodeLifecycle, Prefix, Time } from './primitives.ts';
import { IdentifierRecord } from './identifiers.ts';
import { ApplicationState, JointDebugResult } from './onboarding.ts';
import { MonitorEvent } from './events.ts';
import { PersonRole } from './links.ts';
import { ClusterReport, Provider, RegisterCluster } from './resources.ts';

// The answers of a node's routes that are not messages of their own: lists, pages, acknowledgements. The OpenAPI
// document names them, and the contract tests validate every answer against them.

/**
 * A page of a list in a stable order. `next` is the cursor of the following page (pass it back as `cursor`, with the
 * same filters), or null on the last page; a cursor is opaque, and a page may hold fewer than `limit` items.
 */
const page = <T extends z.ZodType>(item: T) =>
  message({
    items: z.array(item),
    next: z.string().nullable().describe('cursor of the next page (send it as `cursor`), or null on the last page'),
  });

/** `GET /healthz`. */
export const HealthAnswer = message({ status: z.enum(['ok', 'down']), lifecycle: NodeLifecycle, health: Health });

/** `GET /cpn/v1/identifiers`: records in identifier order. */
export const RecordPage = page(IdentifierRecord);
export type RecordPage = z.output<typeof RecordPage>;

/** `GET /cpn/v1/events`: events in the order this node stored them. */
export const EventPage = page(MonitorEvent);
export type EventPage = z.output<typeof EventPage>;

/** A batch received: how many were new and how many were already held (deduplicated by their keys). */
export const BatchAnswer = message({
  accepted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
});
export type BatchAnswer = z.output<typeof BatchAnswer>;

/** `POST /cpn/v1/copies`: how many copies were stored. */
export const CopyAnswer = message({ accepted: z.number().int().nonnegative() });

/** `GET /cpn/v1/applications`: every application received here. */
export const ApplicationList = message({ items: z.array(ApplicationState) });

/** `GET /cpn/v1/joint-debug`: the joint-debugging results this node holds. */
export const JointDebugList = message({ items: z.array(JointDebugResult) });

/** `POST /cpn/v1/joint-debug`: this node's checks of the caller, and the caller's lifecycle after them. */
export const JointDebugAnswer = message({ result: JointDebugResult, lifecycle: NodeLifecycle });

/** `POST /cpn/v1/joint-debug/request`: the checks run in the background; `running` when a run was already going. */
export const JointDebugRerunAnswer = message({ accepted: z.literal(true), by: Prefix, running: z.boolean() });

/** `POST /cpn/v1/joint-debug/echo`. */
export const EchoAnswer = message({ ok: z.literal(true), by: Prefix });

/** An emergency order or a lifecycle notice applied: the target and its lifecycle now. */
export const LifecycleAnswer = message({
  target: z.string(),
  lifecycle: z.union([NodeLifecycle, MemberLifecycle]),
});

/** `GET /cpn/v1/accounts`. */
export const AccountList = message({
  items: z.array(
    message({ id: z.string(), name: z.string(), role: PersonRole, status: z.enum(['active', 'suspended', 'revoked']) }),
  ),
});

/** `POST /cpn/v1/accounts`. */
export const AccountCreated = message({ id: z.string(), role: PersonRole });

/** `POST /cpn/v1/tokens` and `POST /cpn/v1/tokens/viewer`: an API token (a JWS) and its lifetime. */
export const TokenAnswer = message({
  token: z.string(),
  expiresIn: z.number().int().positive().describe("seconds of the node's clock"),
});

/** `GET /cpn/v1/providers`. */
export const ProviderList = message({ items: z.array(Provider) });

/**
 * A cluster as a node holds it: its declaration, lifecycle and health. The architecture, security level and carbon
 * intensity are in the registration's answer; a list built from the live table may leave them out.
 */
export const Cluster = RegisterCluster.partial({ arch: true, securityLevel: true, carbonIntensity: true }).extend({
  id: z.string(),
  node: Prefix,
  lifecycle: MemberLifecycle,
  health: Health,
  registeredAt: Time.optional(),
});

/** `GET /cpn/v1/clusters`: with how many reports were applied and the last one. */
export const ClusterList = message({
  items: z.array(Cluster.extend({ reports: z.number().int().nonnegative(), lastReport: ClusterReport.nullable() })),
});

/** The signed tree head of an audit log (RFC 6962 style): size and root at a time, signed by the node. */
export const SignedTreeHead = message({
  logId: z.string(),
  treeSize: z.number().int().nonnegative(),
  rootHash: z.string().describe('base64 Merkle root'),
  timestamp: z.number().int().describe('Unix ms (node clock)'),
  profile: z.string().describe('crypto profile of the hashes and signature'),
  signature: z.string().describe('base64url signature over the JCS of the other fields'),
});

/** `GET /cpn/v1/audit/proofs/inclusion`: entry `index` is in the tree of `treeSize` entries (RFC 9162 §2.1.3). */
export const InclusionProof = message({
  index: z.number().int().nonnegative(),
  treeSize: z.number().int().positive(),
  leafHash: z.string().describe('base64 H(0x00 ‖ JCS(entry))'),
  proof: z.array(z.string()).describe('base64 hashes, leaf to root'),
  root: z.string().describe('base64 root of the tree of treeSize entries'),
});

/** `GET /cpn/v1/audit/proofs/consistency`: the tree of `first` entries is a prefix of the tree of `second` (§2.1.4). */
export const ConsistencyProof = message({
  first: z.number().int().positive(),
  second: z.number().int().positive(),
  firstRoot: z.string().describe('base64'),
  secondRoot: z.string().describe('base64'),
  proof: z.array(z.string()).describe('base64 hashes'),
});

/** A relayed job update or cancellation: whether it was applied (one per relay in a batch). */
export const RelayAnswer = message({ accepted: z.union([z.boolean(), z.array(z.boolean())]) });

/** A child's metering totals received. */
export const Received = message({ accepted: z.literal(true) });
