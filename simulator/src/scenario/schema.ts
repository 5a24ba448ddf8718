import { z } from 'zod';
import {
  ChainStepInput,
  CreditCode,
  TimeInput,
  IndustryCode,
  JOB_BATCH_MAX,
  Kind,
  NodeLifecycle,
  Prefix,
  ProvinceCode,
  Share,
  TaskTemplate,
} from '@cpnet/protocol';
import { Duration } from './duration.ts';

const strict = z.strictObject;
const Range = strict({ min: z.number().finite(), max: z.number().finite() }).refine((r) => r.min <= r.max, {
  message: 'min must not exceed max',
});

/** A region (province) with its industry nodes. */
export const RegionSpec = strict({
  code: ProvinceCode,
  name: z.string().min(1).optional(),
  industries: z.array(IndustryCode).max(50).default([]),
});
export type RegionSpec = z.output<typeof RegionSpec>;

/** An explicit cluster. */
export const ClusterSpec = strict({
  name: z.string().min(1).optional(),
  province: ProvinceCode.optional(),
  resourceClass: z.enum(['401', '402', '403']).default('401'),
  arch: z.enum(['x86_64', 'aarch64', 'loongarch64', 'sw_64']).default('x86_64'),
  cpuCores: z.number().int().positive(),
  memoryGib: z.number().positive(),
  accelerators: z.array(strict({ model: z.string().min(1), count: z.number().int().positive() })).default([]),
  pricePerCoreHourYuan: z.number().nonnegative().optional(),
  pricePerCardHourYuan: z.number().nonnegative().optional(),
  pue: z.number().min(1).max(3).optional(),
  greenShare: Share.optional(),
  securityLevel: z.number().int().min(1).max(5).default(3),
});
export type ClusterSpec = z.output<typeof ClusterSpec>;

/** An explicit provider and its clusters. */
export const ProviderSpec = strict({
  name: z.string().min(1).optional(),
  creditCode: CreditCode.optional(),
  node: Prefix,
  clusters: z.array(ClusterSpec).min(1).max(10_000),
});
export type ProviderSpec = z.output<typeof ProviderSpec>;

/** A count template: `count` providers generated with the scenario's seed. */
export const ProviderTemplate = strict({
  count: z.number().int().min(1).max(100_000),
  nodes: z.array(Prefix).min(1).describe('providers are spread over these nodes in turn'),
  clusters: Range.default({ min: 1, max: 4 }),
  cpuCores: Range.default({ min: 256, max: 4096 }),
  acceleratorShare: Share.default(0.6).describe('share of clusters with accelerators'),
  acceleratorModels: z.array(z.string().min(1)).min(1).default(['Ascend 910B', 'H800', 'A800', 'MLU370', 'DCU Z100']),
  pricePerCoreHourYuan: Range.default({ min: 0.05, max: 0.3 }),
  pue: Range.default({ min: 1.1, max: 1.5 }),
  greenShare: Range.default({ min: 0.1, max: 0.9 }),
});
export type ProviderTemplate = z.output<typeof ProviderTemplate>;

/** The topology: the national node, regions with industries, providers explicit or from templates. */
export const Topology = strict({
  reportEvery: Duration.default(10_000).describe("virtual time between a gateway's capacity reports"),
  certificateLifetime: Duration.refine((ms) => ms % 86_400_000 === 0 && ms >= 3 * 86_400_000, {
    message: 'a whole number of days, at least 3d',
  })
    .optional()
    .describe(
      "how long parents' certificates for their children are valid (default 365d); children renew after two thirds",
    ),
  review: z
    .enum(['auto', 'manual'])
    .default('auto')
    .describe('auto: parents decide applications by the rules alone; manual: review steps decide'),
  acceptance: z
    .enum(['auto', 'authority'])
    .default('auto')
    .describe(
      'auto: a child that passes joint debugging is accepted at once (rehearsal); authority: an acceptance officer ' +
        'decides (acceptance steps)',
    ),
  national: strict({ name: z.string().min(1).default('国家算力互联互通节点') }).default({
    name: '国家算力互联互通节点',
  }),
  regions: z.array(RegionSpec).max(34).default([]),
  guide: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional()
    .describe(
      "a province's guide in guides/ (e.g. sichuan-2026): every node runs its review chain (dossier and chain steps); " +
        'without one, the rehearsal chain (review auto or manual)',
    ),
  providers: z.array(ProviderSpec).default([]),
  providerTemplates: z.array(ProviderTemplate).default([]),
}).superRefine((t, ctx) => {
  const seen = new Set<string>();
  t.regions.forEach((r, i) => {
    if (seen.has(r.code))
      ctx.addIssue({
        code: 'custom',
        path: ['regions', i, 'code'],
        message: `region ${r.code} appears twice; one regional node per province`,
      });
    seen.add(r.code);
  });
  // The guide allows one industry node per industry nationwide; a second stays in review until a person overrides,
  // which auto review never does: the run would wait for a node that cannot come online.
  if (t.review === 'auto') {
    const first = new Map<string, string>();
    t.regions.forEach((r, i) =>
      r.industries.forEach((ind, j) => {
        const where = first.get(ind);
        if (where !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['regions', i, 'industries', j],
            message:
              `industry ${ind} already has a node in region ${where}; the guide allows one industry node per ` +
              `industry, and auto review cannot grant the override a second one needs (use review: manual with a ` +
              `review step, or another industry)`,
          });
        else first.set(ind, r.code);
      }),
    );
  }
});
export type Topology = z.output<typeof Topology>;

/**
 * A job's input data (issue 27, data has weight): GiB read before it starts and the province they live in, GiB written
 * and where they go (default: the input's province). Sent to the node as the template's `ext.data`.
 */
export const TemplateData = strict({
  inputGib: z.number().finite().nonnegative().max(1e9).describe('GiB of input read before the job starts'),
  province: ProvinceCode.describe('GB/T 2260 province the input lives in'),
  outputGib: z.number().finite().nonnegative().max(1e9).optional().describe('GiB written, moved after the job'),
  outputProvince: ProvinceCode.optional().describe('where the output goes (default: province)'),
});
export type TemplateData = z.output<typeof TemplateData>;

/** A stream's task template: the wire template, plus `data` (sent as `ext.data`, which a 1.0 peer ignores). */
export const StreamTemplate = TaskTemplate.extend({ data: TemplateData.optional() });
export type StreamTemplate = z.output<typeof StreamTemplate>;

/** A stream of jobs. */
export const JobStream = strict({
  name: z.string().min(1),
  submitTo: Prefix,
  tenant: z.string().min(1).default('tenant-1'),
  count: z.number().int().min(1).max(1_000_000),
  start: Duration.default(0),
  arrival: z.discriminatedUnion('kind', [
    strict({ kind: z.literal('poisson'), perMinute: z.number().positive() }),
    strict({ kind: z.literal('uniform'), every: Duration }),
    strict({ kind: z.literal('burst') }),
  ]),
  userProvinces: z.array(ProvinceCode).min(1).optional(),
  batch: z
    .number()
    .int()
    .min(1)
    .max(JOB_BATCH_MAX)
    .default(1)
    .describe(
      'jobs per submission request at most: 1 sends each job alone (POST /cpn/v1/jobs); more keeps a few requests ' +
        'in flight and sends the arrivals that waited for one together (POST /cpn/v1/job-batches)',
    ),
  template: StreamTemplate,
});
export type JobStream = z.output<typeof JobStream>;

/** The workload: job streams and/or a trace. */
export const Workload = strict({
  jobs: z.array(JobStream).default([]),
  trace: strict({
    format: z.literal('alibaba-gpu-v2023'),
    file: z.string().min(1).optional().describe('CSV in the pods format, relative to the scenario file'),
    generate: strict({ pods: z.number().int().min(1).max(1_000_000) }).optional(),
    submitTo: Prefix,
    start: Duration.default(0).describe('virtual time the first pod arrives'),
    speedup: z.number().positive().default(1),
  })
    .refine((t) => (t.file === undefined) !== (t.generate === undefined), {
      message: 'give exactly one of file or generate',
    })
    .optional(),
});
export type Workload = z.output<typeof Workload>;

const FaultKind = z.enum([
  'kill',
  'pause',
  'partition',
  'one-way-partition',
  'latency',
  'reset',
  'bandwidth',
  'skew-clock',
  'revoke-certificate',
  'forge',
  'replay',
  'out-of-scope',
  'revoked-write',
  'suspend-provider',
  'cluster-down',
  'gateway-down',
]);

/** A fault to inject. */
export const Fault = strict({
  name: z.string().min(1).optional().describe('to heal it later by name'),
  kind: FaultKind,
  target: z.string().min(1).describe('a node prefix, a cluster identifier or a link "A~B"'),
  latency: Duration.optional(),
  jitter: Duration.optional(),
  bandwidthKbps: z.number().positive().optional(),
  skew: Duration.optional(),
});
export type Fault = z.output<typeof Fault>;

const at = { at: Duration };

/** A timed action. */
export const Action = z.discriminatedUnion('do', [
  strict({
    ...at,
    do: z.literal('apply'),
    node: Prefix,
    breaks: z
      .array(z.enum(['capital', 'licence', 'dishonesty', 'duplicate-region', 'duplicate-industry', 'funding']))
      .default([]),
  }),
  strict({
    ...at,
    do: z.literal('review'),
    node: Prefix,
    decision: z.enum(['approve', 'reject']).default('approve'),
    override: strict({ rule: z.string().min(1), reason: z.string().min(10) }).optional(),
  }),
  strict({ ...at, do: z.literal('joint-debug'), node: Prefix }),
  strict({
    ...at,
    do: z.literal('dossier'),
    node: Prefix,
    breaks: z.array(z.enum(['security-section', 'oversize-attachment'])).default([]),
  }).describe("the applicant uploads its attachments and submits a dossier meeting the topology's guide"),
  strict({
    ...at,
    do: z.literal('chain'),
    node: Prefix,
    by: z.union([
      z.literal('applicant'),
      strict({ role: z.string().min(1), agency: z.string().min(1), account: z.string().min(1).optional() }),
    ]),
    stage: ChainStepInput.shape.stage,
    action: ChainStepInput.shape.action,
    verdict: z.enum(['pass', 'fail']).optional(),
    score: z.number().min(0).max(100).optional(),
    objection: z.number().int().min(1).optional(),
    comment: z.string().min(1).default('意见'),
    expect: z
      .string()
      .min(1)
      .optional()
      .describe('the step must be refused with this rule (e.g. window, one-opinion-per-agency)'),
  }).describe("a step of the guide's review chain on the node's application, where it is held"),
  strict({
    ...at,
    do: z.literal('register'),
    node: Prefix,
    kind: Kind.default('SV'),
    count: z.number().int().min(1).max(100_000).default(1),
  }),
  strict({ ...at, do: z.literal('submit'), stream: z.string().min(1), count: z.number().int().min(1).optional() }),
  strict({ ...at, do: z.literal('fault'), fault: Fault }),
  strict({ ...at, do: z.literal('heal'), fault: z.string().min(1).describe('the name of the fault, or its target') }),
  strict({ ...at, do: z.literal('restart'), node: Prefix }),
  strict({ ...at, do: z.literal('wait'), for: Duration }),
  strict({
    ...at,
    do: z.literal('acceptance'),
    node: Prefix.describe('the approved node; its parent is the authority'),
    act: z
      .enum(['plan', 'progress', 'gather', 'decide', 'supervise'])
      .describe(
        'plan: milestones and window; progress: the node reports a milestone; gather: the evidence pack; ' +
          'decide: an acceptance officer; supervise: a supervisor',
      ),
    milestones: z
      .array(strict({ id: z.string().min(1), title: z.string().min(1), due: Duration.describe('after now') }))
      .optional(),
    window: strict({ from: Duration, to: Duration }).optional().describe('the joint-debugging window, from now'),
    milestone: z.string().min(1).optional(),
    status: z.enum(['in-progress', 'done']).optional(),
    decision: z.enum(['pass', 'pass-with-conditions', 'fail']).optional(),
    reasons: z.array(z.string().min(1)).optional(),
    conditions: z.array(strict({ text: z.string().min(1), due: Duration.describe('after now') })).optional(),
    action: z.enum(['suspend', 'require-rectification', 'reinspect', 'restore']).optional(),
    reason: z.string().min(1).optional(),
    due: Duration.optional().describe('require-rectification: due after now'),
    result: z.enum(['pass', 'fail']).optional(),
  }),
  strict({
    ...at,
    do: z.literal('advance'),
    by: Duration.describe(
      'moves the calendar on by this much virtual time: timers due on the way fire once, the last 2 minutes run ' +
        "through every timer; later steps' `at` does not count the advance",
    ),
  }),
]);
export type Action = z.output<typeof Action>;

const Bound = strict({ p50: Duration.optional(), p99: Duration.optional(), max: Duration.optional() });

/** A condition that must hold at its time (or within `within` after it). */
export const Expectation = z.discriminatedUnion('that', [
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('lifecycle'),
    node: Prefix,
    is: NodeLifecycle,
    within: Duration.optional(),
  }),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('chain'),
    node: Prefix,
    stage: z.string().min(1).describe('the stage the application waits in, or listed / refused / disqualified'),
    within: Duration.optional(),
  }),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('refused'),
    node: Prefix,
    rules: z.array(z.string().min(1)).min(1),
  }),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('resolvable'),
    from: z.union([z.literal('every-node'), z.array(Prefix).min(1)]).default('every-node'),
    registeredBefore: Duration.optional().describe('only identifiers acknowledged before this virtual time'),
    registeredBeforeFault: z
      .string()
      .min(1)
      .optional()
      .describe('only identifiers acknowledged before the named fault was injected'),
  }),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('joint-debug'),
    node: Prefix,
    passes: z.boolean(),
    failing: z.array(z.string()).optional(),
  }),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('jobs'),
    state: z
      .enum(['final', 'finished', 'failed', 'cancelled', 'running', 'replaced'])
      .describe('replaced: jobs whose history shows a re-placement'),
    min: z.number().int().nonnegative().optional(),
    max: z.number().int().nonnegative().optional(),
    within: Duration.optional(),
  }),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('acceptance'),
    node: Prefix,
    status: z
      .enum(['construction', 'joint-debugging', 'awaiting-acceptance', 'conditional', 'accepted', 'failed'])
      .optional(),
    overdue: z.array(z.string()).optional().describe('exactly these milestones are flagged overdue now'),
    supervision: z.enum(['normal', 'suspended', 'rectifying', 'reinspected']).optional(),
    runs: strict({ failedInWindow: z.number().int().min(0).optional() }).optional(),
    within: Duration.optional(),
  }).describe("the node's acceptance case at its authority"),
  strict({ ...at, name: z.string().optional(), that: z.literal('nothing-lost') }),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('certificate'),
    node: Prefix,
    validFor: Duration.default(0).describe('its own certificate stays valid at least this much longer'),
  }).describe("the node's certificate chain verifies up to the national root at this moment"),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('alerts'),
    node: Prefix,
    min: z.number().int().min(0),
    within: Duration.optional(),
  }).describe('the node raised at least this many security alerts'),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('selection'),
    node: Prefix,
    excludesProvider: z.string().min(1),
    within: Duration.optional(),
  }).describe('a selection at the node offers no cluster of this provider (key p0 … or identifier)'),
  strict({ ...at, name: z.string().optional(), that: z.literal('attacks-refused') }).describe(
    'every forged, replayed, out-of-scope or revoked write sent so far was refused',
  ),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('market'),
    node: Prefix.default('CPN'),
    clusters: z.number().int().min(0),
    within: Duration.optional(),
  }).describe('the market view at a node lists at least this many clusters'),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('timing'),
    metric: z.enum(['failover', 'schedule', 'resolve', 'dispatch']),
    bound: Bound,
  }),
  strict({
    ...at,
    name: z.string().optional(),
    that: z.literal('share'),
    of: z
      .enum(['latency-tolerant-west', 'latency-bound-local', 'data-local'])
      .describe("data-local: jobs with input data placed in their data's province"),
    stream: z.string().min(1).optional().describe('only the jobs of this stream'),
    min: Share.optional(),
    max: Share.optional(),
  }),
]);
export type Expectation = z.output<typeof Expectation>;

/**
 * One timed step: an action (`do`) or an expectation (`that`). Chosen by its key rather than a plain union, so that
 * a typo is reported against the branch the author meant, not as "matches no option".
 */
export const Step = z.unknown().transform((value, ctx) => {
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const schema = isObject && 'do' in value ? Action : isObject && 'that' in value ? Expectation : null;
  if (schema === null) {
    ctx.addIssue({
      code: 'custom',
      message:
        'a step needs "do" (an action: apply, review, joint-debug, acceptance, register, submit, fault, heal, restart, wait, advance) or ' +
        '"that" (an expectation)',
    });
    return z.NEVER;
  }
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues)
    ctx.addIssue({ ...issue, path: issue.path } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});
export type Step = z.output<typeof Step>;

/** A scenario file. */
export const Scenario = strict({
  name: z
    .string()
    .min(1)
    .regex(/^[a-z0-9-]+$/, 'kebab-case'),
  description: z.string().default(''),
  seed: z
    .number()
    .int()
    .default(1)
    .describe('seeds everything random in the run: topology, providers, faults, arrivals, keys of requests'),
  speed: z
    .union([z.number().min(0.1).max(1000), z.literal('max')])
    .default(10)
    .describe(
      'virtual time runs at most this many times faster than wall time (slower when the machine falls behind); max: ' +
        'as fast as the nodes keep up, jumping over idle time',
    ),
  calendar: TimeInput.optional().describe(
    "the date the virtual clock starts at (e.g. a guide's publication, 2026-03-18T09:00:00+08:00); default now",
  ),
  topology: Topology,
  workload: Workload.default({ jobs: [] }),
  steps: z.array(Step).default([]),
  until: Duration.optional().describe('virtual end time; defaults to the last step plus 10 s'),
  processes: z
    .boolean()
    .default(false)
    .describe(
      "run each node as its own OS process (the real `cpnet node start`) instead of in the simulator's process; needs " +
        'speed 1 and no skew-clock faults',
    ),
  threads: z
    .union([z.literal('auto'), z.number().int().min(0).max(64)])
    .default(0)
    .describe(
      "host the nodes in this many worker threads of the simulator's process (auto: one per core), so a large topology " +
        'uses every core; 0: in the main thread',
    ),
}).superRefine((s, ctx) => {
  if (s.processes && s.threads !== 0)
    ctx.addIssue({
      code: 'custom',
      path: ['threads'],
      message: 'threads and processes exclude each other: nodes run either in worker threads or as OS processes',
    });
  const streams = s.workload.jobs.map((j) => j.name);
  s.steps.forEach((step, i) => {
    const e = step as { that?: string; stream?: string };
    if (e.that === 'share' && e.stream !== undefined && !streams.includes(e.stream))
      ctx.addIssue({
        code: 'custom',
        path: ['steps', i, 'stream'],
        message: `no job stream "${e.stream}" (streams: ${streams.join(', ') || 'none'})`,
      });
  });
  if (!s.processes) return;
  for (const p of processModeProblems(s)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});
export type Scenario = z.output<typeof Scenario>;

/**
 * Why a scenario cannot run in process mode (one OS process per node): such nodes keep the machine's clock, so the
 * virtual clock must run at real speed and no node's clock can be skewed. Empty when it can.
 */
export function processModeProblems(
  s: { speed: number | 'max'; steps: readonly unknown[] },
  o: { speed?: number | 'max' } = {},
): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  const speed = o.speed ?? s.speed;
  if (speed !== 1)
    out.push({
      path: ['speed'],
      message: `process mode runs every node on the machine's own clock: speed must be 1, not ${speed}`,
    });
  s.steps.forEach((step, i) => {
    const f = step as { do?: string; fault?: { kind?: string } };
    if (f.do === 'fault' && f.fault?.kind === 'skew-clock')
      out.push({
        path: ['steps', i, 'fault', 'kind'],
        message:
          "skew-clock cannot be injected in process mode (a node process keeps the machine's clock); run this scenario " +
          'in process (default) mode',
      });
  });
  return out;
}
