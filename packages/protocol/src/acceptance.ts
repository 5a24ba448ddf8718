import { z } from 'zod';
import { JsonData, message, Prefix, Time } from './primitives.ts';

/**
 * After approval (三(五) 建设实施): the construction period of the approved 建设方案, joint debugging on schedule
 * (按期), 验收 by the authority, and supervision (监督指导). The authority is the node that approved the applicant
 * (its parent); it keeps one acceptance case per approved child.
 */
export const ACCEPTANCE_ROUTES = {
  cases: '/cpn/v1/acceptance/cases',
  case: '/cpn/v1/acceptance/cases/{node}',
  plan: '/cpn/v1/acceptance/cases/{node}/plan',
  milestone: '/cpn/v1/acceptance/cases/{node}/milestones/{milestone}',
  gather: '/cpn/v1/acceptance/cases/{node}/evidence',
  decisions: '/cpn/v1/acceptance/cases/{node}/decisions',
  supervision: '/cpn/v1/acceptance/cases/{node}/supervision',
  evidence: '/cpn/v1/acceptance/evidence',
  own: '/cpn/v1/acceptance/own',
  ownMilestone: '/cpn/v1/acceptance/own/milestones/{milestone}',
} as const;

/** A time on input: RFC 3339 with any offset (`2026-06-30T18:00:00+08:00`); stored and answered in UTC. */
export const TimeWithOffset = z.iso
  .datetime({ offset: true })
  .describe('RFC 3339 with an offset (+08:00) or Z; answered as UTC with milliseconds');

/** A milestone of the 实施计划 of the approved 建设方案. */
export const MilestoneInput = message({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lower-case letters, digits and dashes; 1–40 characters'),
  title: z.string().min(1).max(200),
  due: TimeWithOffset,
});
export type MilestoneInput = z.output<typeof MilestoneInput>;

/** A time window (inclusive start, exclusive end). */
export const TimeWindow = message({ from: TimeWithOffset, to: TimeWithOffset });
export type TimeWindow = z.output<typeof TimeWindow>;

/**
 * `PUT …/acceptance/cases/{node}/plan`: the construction plan of an approved node — the milestones and dates of its
 * 实施计划, and the window in which joint debugging (对接联调) must pass (按期).
 */
export const AcceptancePlan = message({
  milestones: z.array(MilestoneInput).min(1).max(50),
  jointDebugWindow: TimeWindow,
});
export type AcceptancePlan = z.output<typeof AcceptancePlan>;

/** `POST …/acceptance/cases/{node}/milestones/{milestone}`: the node reports progress on a milestone. */
export const MilestoneReport = message({
  status: z.enum(['in-progress', 'done']),
  note: z.string().max(2000).optional(),
});
export type MilestoneReport = z.output<typeof MilestoneReport>;

/** The acceptance officer's decision. */
export const AcceptanceVerdict = z.enum(['pass', 'pass-with-conditions', 'fail']);
export type AcceptanceVerdict = z.output<typeof AcceptanceVerdict>;

/** `POST …/acceptance/cases/{node}/decisions`: an acceptance officer records a decision with reasons. */
export const AcceptanceDecisionInput = message({
  decision: AcceptanceVerdict,
  reasons: z.array(z.string().min(1).max(2000)).min(1).max(50),
  conditions: z
    .array(message({ text: z.string().min(1).max(2000), due: TimeWithOffset }))
    .max(50)
    .optional()
    .describe('required with pass-with-conditions: what must be done, by when'),
});
export type AcceptanceDecisionInput = z.output<typeof AcceptanceDecisionInput>;

/** Supervision (监督指导) orders, in the order they normally come. */
export const SupervisionAction = z.enum(['suspend', 'require-rectification', 'reinspect', 'restore']);
export type SupervisionAction = z.output<typeof SupervisionAction>;

/** `POST …/acceptance/cases/{node}/supervision`: a supervisor's order on an approved node. */
export const SupervisionOrder = message({
  action: SupervisionAction,
  reason: z.string().min(1).max(2000),
  due: TimeWithOffset.optional().describe('require-rectification: the date the rectification is due'),
  result: z.enum(['pass', 'fail']).optional().describe('reinspect: what the re-inspection found'),
});
export type SupervisionOrder = z.output<typeof SupervisionOrder>;

/** One row of the security table of the evidence pack. */
export const SecurityItem = message({
  standard: z.string().describe('GB/T 22239-2019 (等保2.0) 三级 or GB/T 39786-2021 (密码应用)'),
  clause: z.string(),
  requirement: z.string(),
  how: z.string().describe('how cpnet meets it'),
  evidence: z.string().describe('what in this pack or this node shows it'),
});
export type SecurityItem = z.output<typeof SecurityItem>;

/** Runtime figures over a stated period, from the node's own metrics and event log. */
export const RuntimeFigures = message({
  period: message({ from: Time, to: Time }),
  availability: z.number().min(0).max(1).describe('share of the period not in health `down` (node.health events)'),
  downMs: z.number().int().min(0),
  resolution: message({ count: z.number().int(), p50Ms: z.number().nullable(), p99Ms: z.number().nullable() }),
  scheduling: message({ count: z.number().int(), p50Ms: z.number().nullable(), p99Ms: z.number().nullable() }),
  latencyScope: z.string().describe('latency figures come from the request histogram since the process started'),
  resources: message({
    providers: z.number().int(),
    clusters: z.number().int(),
    childSummaries: z.number().int(),
  }),
  jobsServed: z.number().int().describe('jobs scheduled (job.schedule events) in the period'),
});
export type RuntimeFigures = z.output<typeof RuntimeFigures>;

/** The evidence pack a node gathers itself for its 验收. */
export const EvidencePack = message({
  node: Prefix,
  gatheredAt: Time,
  conformance: z
    .array(JsonData)
    .describe('the latest full joint-debugging (conformance) result received from each node that checked this one'),
  runtime: RuntimeFigures,
  security: z.array(SecurityItem),
  treeHead: JsonData.describe("the audit log's signed tree head"),
  signature: z.string().optional().describe('compact JWS of the node over the JCS of the pack without this field'),
});
export type EvidencePack = z.output<typeof EvidencePack>;

/** The stages of an acceptance case. */
export const AcceptanceStatus = z.enum([
  'construction',
  'joint-debugging',
  'awaiting-acceptance',
  'conditional',
  'accepted',
  'failed',
]);
export type AcceptanceStatus = z.output<typeof AcceptanceStatus>;

/** A flag raised to the supervising authority (an overdue milestone, joint debugging overdue, a refused run). */
export const AcceptanceFlag = message({
  kind: z.enum(['milestone-overdue', 'joint-debug-overdue', 'condition-overdue', 'rectification-overdue']),
  subject: z.string(),
  due: Time,
  raisedAt: Time,
  cleared: z.boolean(),
});

/** An acceptance case as the authority keeps it. */
export const AcceptanceCase = message({
  node: Prefix,
  authority: Prefix,
  mode: z.enum(['authority', 'automatic']),
  status: AcceptanceStatus,
  approvedAt: Time,
  milestones: z.array(
    message({
      id: z.string(),
      title: z.string(),
      due: Time,
      status: z.enum(['planned', 'in-progress', 'done']),
      doneAt: Time.optional(),
      note: z.string().optional(),
      overdue: z.boolean(),
    }),
  ),
  jointDebug: message({
    window: message({ from: Time, to: Time }).nullable(),
    runs: z.array(message({ at: Time, by: Prefix, passed: z.boolean(), inWindow: z.boolean() })),
    passedAt: Time.nullable(),
    overdue: z.boolean(),
  }),
  evidence: EvidencePack.nullable(),
  decisions: z.array(
    message({
      decision: AcceptanceVerdict,
      reasons: z.array(z.string()),
      conditions: z.array(message({ text: z.string(), due: Time })),
      by: z.string(),
      at: Time,
      signature: z.string().describe("compact JWS of the authority node over the decision's JCS"),
    }),
  ),
  supervision: message({
    state: z.enum(['normal', 'suspended', 'rectifying', 'reinspected']),
    orders: z.array(
      message({
        action: SupervisionAction,
        reason: z.string(),
        due: Time.optional(),
        result: z.enum(['pass', 'fail']).optional(),
        by: z.string(),
        at: Time,
        signature: z.string(),
      }),
    ),
  }),
  flags: z.array(AcceptanceFlag),
});
export type AcceptanceCase = z.output<typeof AcceptanceCase>;

/** Every acceptance case held by this authority. */
export const AcceptanceCaseList = message({ items: z.array(AcceptanceCase) });

/** `GET /cpn/v1/acceptance/evidence`: the period of the runtime figures (default: the last 30 days of node time). */
export const EvidenceQuery = z.strictObject({
  from: TimeWithOffset.optional(),
  to: TimeWithOffset.optional(),
});

/** `POST …/evidence`: the authority asks the node for its evidence pack over a period and keeps it in the case. */
export const GatherEvidence = message({
  from: TimeWithOffset.optional(),
  to: TimeWithOffset.optional(),
});
export type GatherEvidence = z.output<typeof GatherEvidence>;
