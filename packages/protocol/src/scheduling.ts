import { z } from 'zod';
import { Identifier, message, NonNegative, PageQuery, Prefix, ProvinceCode, Share, Time } from './primitives.ts';
import { CLUSTER_LIMITS } from './resources.ts';
import { ERROR_CODES, type ErrorCode } from './errors.ts';

/** What one replica needs. */
export const Demand = message({
  cpuCores: z.number().finite().nonnegative().max(CLUSTER_LIMITS.cpuCores),
  memoryGib: z.number().finite().nonnegative().max(CLUSTER_LIMITS.memoryGib),
  storageGib: z.number().finite().nonnegative().max(CLUSTER_LIMITS.storageGib).default(0),
  bandwidthGbps: z.number().finite().nonnegative().max(CLUSTER_LIMITS.bandwidthGbps).default(0),
  accelerators: message({
    model: z.string().min(1).max(100).optional(),
    count: z.number().int().positive().max(CLUSTER_LIMITS.acceleratorCount),
    minFp16Tflops: NonNegative.optional(),
  }).optional(),
});
export type Demand = z.output<typeof Demand>;

/** Weights of the scoring criteria (explicit objective). */
export const Weights = message({ cost: Share, latency: Share, green: Share, reliability: Share.default(0) });
export type Weights = z.output<typeof Weights>;

/** A task template: demand, hard constraints and objective (算力选择 input). */
export const TaskTemplate = message({
  name: z.string().min(1).max(200).optional(),
  demand: Demand,
  replicas: z.number().int().min(1).max(10_000).default(1),
  placement: z.enum(['single', 'split', 'gang']).default('single'),
  durationHours: z
    .number()
    .positive()
    .max(24 * 365),
  constraints: message({
    arch: z.enum(['x86_64', 'aarch64', 'loongarch64', 'sw_64']).optional(),
    residency: message({
      provinces: z.array(ProvinceCode).max(34).optional(),
      allowOutsideMainland: z.boolean().optional(),
    }).optional(),
    minSecurityLevel: z.number().int().min(1).max(5).optional(),
    userProvince: ProvinceCode.optional(),
    maxLatencyMs: NonNegative.optional(),
    maxPricePerHourYuan: NonNegative.optional(),
    deadline: Time.optional(),
  }).default({}),
  objective: z.union([z.enum(['cost', 'latency', 'green', 'balanced']), Weights]).default('balanced'),
  latencyTolerant: z.boolean().default(false),
  priority: z.number().int().min(0).max(1000).default(100),
  tenant: z.string().min(1).max(100).optional(),
});
export type TaskTemplate = z.output<typeof TaskTemplate>;

/**
 * `template.ext.data` (issue 27, an extension: a 1.0 peer ignores it): the task's input data, where it lives, and
 * its output. The input moves to the chosen cluster before the task starts and the output back after it ends,
 * priced and timed by the scheduler's inter-province transfer table.
 */
export const TemplateData = z
  .strictObject({
    inputGib: z.number().finite().nonnegative().max(1e9).describe('GiB read before the task starts'),
    province: ProvinceCode.describe('GB/T 2260 province the input lives in'),
    outputGib: z.number().finite().nonnegative().max(1e9).optional().describe('GiB written (default 0)'),
    outputProvince: ProvinceCode.optional().describe('where the output goes (default: `province`)'),
  })
  .describe('template.ext.data: input data (GiB, province) and output of a task (issue 27 extension)');
export type TemplateData = z.output<typeof TemplateData>;

/**
 * `template.ext.locality` (issue 27, an extension): gang locality, spread of a split job, ordered affinity groups.
 */
export const TemplateLocality = z
  .strictObject({
    maxInterReplicaLatencyMs: z
      .number()
      .finite()
      .nonnegative()
      .optional()
      .describe('a gang tries one cluster, else one province, else clusters at most this far apart (ms)'),
    spread: z
      .array(
        z
          .strictObject({
            by: z.enum(['province', 'provider']),
            min: z.number().int().min(1).optional(),
            max: z.number().int().min(1).optional(),
          })
          .refine((x) => x.min === undefined || x.max === undefined || x.min <= x.max, {
            message: 'min must not exceed max',
            path: ['min'],
          }),
      )
      .max(2)
      .optional()
      .describe("minimum and maximum number of provinces or providers of a split or gang job (Karmada's spread)"),
    affinityGroups: z
      .array(
        z.strictObject({
          name: z.string().min(1).max(100).optional(),
          provinces: z.array(ProvinceCode).min(1).max(34),
        }),
      )
      .max(16)
      .optional()
      .describe('ordered groups of provinces: the first that can hold the job is used'),
  })
  .describe('template.ext.locality: gang locality, spread and affinity groups (issue 27 extension)');
export type TemplateLocality = z.output<typeof TemplateLocality>;

/** The typed part of a template's `ext`: `data` and `locality`; other keys stay free (extensions). */
export const TemplateExt = z.looseObject({ data: TemplateData.optional(), locality: TemplateLocality.optional() });
export type TemplateExt = z.output<typeof TemplateExt>;

/**
 * Checks a template's typed extensions (`ext.data`, `ext.locality`), naming the field under `at`
 * (`template.ext.data.inputGib: …`); null when they are absent or valid.
 */
export function checkTemplateExt(
  template: { readonly ext?: Record<string, unknown> },
  at = 'template',
): { field: string; message: string } | null {
  if (template.ext === undefined) return null;
  const r = TemplateExt.safeParse(template.ext);
  if (r.success) return null;
  // A misspelt key is named itself (`template.ext.data.inputGB: unknown field`), before the field it left missing.
  const issue = r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0]!;
  const unknown = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = unknown === undefined ? issue.path : [...issue.path, unknown];
  const field = [`${at}.ext`, ...path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))].join('');
  return { field, message: `${field}: ${unknown === undefined ? issue.message : 'unknown field'}` };
}

/** `POST /cpn/v1/selections`: a dry-run selection. */
export const SelectionRequest = message({ template: TaskTemplate, topK: z.number().int().min(1).max(100).default(5) });
export type SelectionRequest = z.output<typeof SelectionRequest>;

/** A ranked candidate with its scores. */
export const Candidate = message({
  cluster: Identifier,
  node: Prefix,
  province: ProvinceCode,
  rank: z.number().int().min(1),
  score: z.number(),
  cats: z.number().min(0).max(10).describe('IETF CATS level-2 score 0–10'),
  criteria: z.record(z.string(), z.number()),
  estimatedCostYuan: NonNegative,
});
export type Candidate = z.output<typeof Candidate>;

/** Why a cluster was excluded. */
export const Exclusion = message({ cluster: Identifier, constraint: z.string(), reason: z.string() });
export type Exclusion = z.output<typeof Exclusion>;

/** The answer to a selection: candidates, and exclusions by constraint (the first few of each; all counted in `summary`). */
export const SelectionAnswer = message({
  answeredBy: Prefix,
  escalated: z.boolean(),
  candidates: z.array(Candidate),
  excluded: z
    .array(Exclusion)
    .describe(
      'the first 5 excluded clusters of each constraint, the most frequent constraint first; the summary counts all',
    ),
  summary: z.string().describe('one sentence; when nothing fits, which constraint excluded everything'),
});
export type SelectionAnswer = z.output<typeof SelectionAnswer>;

/** Job states; the final ones are finished, failed and cancelled. */
export const JobState = z.enum([
  'submitted',
  'queued',
  'scheduled',
  'escalated',
  'confirmed',
  'dispatched',
  'running',
  'preempted',
  'replaced',
  'finished',
  'failed',
  'cancelled',
]);
export type JobState = z.output<typeof JobState>;

/** Final job states: every job ends in exactly one. */
export const FINAL_JOB_STATES = ['finished', 'failed', 'cancelled'] as const;

/** `POST /cpn/v1/jobs`. */
export const SubmitJob = message({ template: TaskTemplate, idempotencyKey: z.string().min(8).max(200).optional() });
export type SubmitJob = z.output<typeof SubmitJob>;

/** One step of a job's history. */
export const JobHistoryEntry = message({
  state: JobState,
  at: Time,
  node: Prefix,
  cluster: Identifier.optional(),
  detail: z.string().optional(),
  attempt: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('placement attempt the entry belongs to (re-placement starts a new one)'),
});
export type JobHistoryEntry = z.output<typeof JobHistoryEntry>;

/** A job as `GET /cpn/v1/jobs/<id>` returns it. */
export const Job = message({
  id: Identifier,
  tenant: z.string(),
  template: TaskTemplate,
  state: JobState,
  cluster: Identifier.nullable(),
  history: z.array(JobHistoryEntry),
  submittedAt: Time,
  finishedAt: Time.nullable(),
  owner: Prefix.nullable().optional().describe('the node whose cluster runs the job'),
  attempt: z.number().int().min(1).optional(),
});
export type Job = z.output<typeof Job>;

/** The most jobs one `POST /cpn/v1/job-batches` carries. */
export const JOB_BATCH_MAX = 100;

/**
 * `POST /cpn/v1/job-batches`: many jobs in one request (a tenant's tooling submitting a queue of arrivals). Each job is
 * taken as `POST /cpn/v1/jobs` would take it, and the answer lists each job's outcome in the order sent. The batch's
 * `idempotencyKey` (or the Idempotency-Key header) is answered once, the whole answer again.
 */
export const SubmitJobBatch = message({
  jobs: z
    .array(message({ template: TaskTemplate }))
    .min(1)
    .max(JOB_BATCH_MAX)
    .describe(`1–${JOB_BATCH_MAX} jobs, each as the body of POST /cpn/v1/jobs without its key`),
  idempotencyKey: z.string().min(8).max(200).optional(),
});
export type SubmitJobBatch = z.output<typeof SubmitJobBatch>;

/** An error as it appears inside an answer (the `error` of the wire's error body). */
export const WireError = z.strictObject({
  code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  field: z.string().optional(),
});
export type WireError = z.output<typeof WireError>;

/**
 * One job of a batch: accepted (`status` 201 and the job, as `POST /cpn/v1/jobs` answers it) or refused (the status
 * and error its own submission would have had — 422 over the tenant's quota or never placeable — with `field`
 * naming the job: `jobs[3].template.demand`).
 */
export const JobBatchItem = z.union([
  z.strictObject({ status: z.literal(201), job: Job }),
  z.strictObject({ status: z.number().int().min(400).max(599), error: WireError }),
]);
export type JobBatchItem = z.output<typeof JobBatchItem>;

/** The answer to `POST /cpn/v1/job-batches`: one item per job sent, in the same order. */
export const JobBatchAnswer = message({ items: z.array(JobBatchItem) });
export type JobBatchAnswer = z.output<typeof JobBatchAnswer>;

/**
 * `GET /cpn/v1/jobs`: the jobs submitted at this node, in identifier order, a page at a time (`next` is the cursor of
 * the next page, null on the last). A tenant sees only its own; an operator may name a tenant or see all.
 */
export const JobListQuery = PageQuery.extend({
  tenant: z.string().max(100).optional().describe("only this tenant's jobs (a tenant may name only itself)"),
});
export type JobListQuery = z.output<typeof JobListQuery>;

/** A page of `GET /cpn/v1/jobs`. */
export const JobPage = message({ items: z.array(Job), next: z.string().nullable() });
export type JobPage = z.output<typeof JobPage>;

/** `GET /cpn/v1/metering`. */
export const MeteringQuery = z.strictObject({
  tenant: z.string().max(100).optional().describe('an account of this node, or `account@node`'),
  provider: z.string().max(64).optional().describe('a provider identifier'),
  from: Time.optional().describe('lines metered at or after this time (RFC 3339 UTC)'),
  to: Time.optional().describe('lines metered before this time (RFC 3339 UTC)'),
});
export type MeteringQuery = z.output<typeof MeteringQuery>;

/** A metering line: resource-hours × price. */
export const MeteringLine = message({
  job: Identifier,
  tenant: z.string(),
  provider: Identifier,
  cluster: Identifier,
  coreHours: NonNegative,
  cardHours: NonNegative,
  amountYuan: NonNegative,
  from: Time,
  to: Time,
});
export type MeteringLine = z.output<typeof MeteringLine>;
