import { z } from 'zod';
import { IdentifierRecord } from './identifiers.ts';
import { Application, Review } from './onboarding.ts';
import { JsonData, message, Prefix } from './primitives.ts';

/** `POST /cpn/v1/applications/forwarded`: a regional node forwards an industry application with its opinion. */
export const ForwardedApplication = message({
  originId: z.string().min(1).max(100),
  applicant: Prefix,
  application: Application,
  opinion: Review,
});
export type ForwardedApplication = z.output<typeof ForwardedApplication>;

/** `POST /cpn/v1/copies`: records a child copies upward so ancestors can answer when the owner is down. */
export const CopyBatch = message({
  records: z.array(IdentifierRecord).min(1).max(1000),
});
export type CopyBatch = z.output<typeof CopyBatch>;

/**
 * A person role at a node: reviewer (审核), operator (运维), tenant (租户), viewer; the review stages of a province's
 * guide — city-reviewer (市州初审推荐), provincial-reviewer (联合复审, 上报), expert (工信部专家评审; after approval it
 * also reads acceptance evidence); after approval the acceptance officer (验收) and the supervisor (监督指导).
 */
export const PersonRole = z.enum([
  'reviewer',
  'operator',
  'tenant',
  'viewer',
  'acceptance-officer',
  'supervisor',
  'city-reviewer',
  'provincial-reviewer',
  'expert',
]);
export type PersonRole = z.output<typeof PersonRole>;

/** `POST /cpn/v1/accounts`: an operator (or the node itself) creates an account for a person. */
export const CreateAccount = message({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,62}$/, 'lower-case letters, digits, dot, dash, underscore; 2–63 characters'),
  name: z.string().min(1).max(200),
  role: PersonRole,
  password: z.string().min(8).max(200),
  agency: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('the reviewer’s agency (省经济和信息化厅, 省通信管理局, 工信部, a 市州), as the guide names it'),
});
export type CreateAccount = z.output<typeof CreateAccount>;

/** `POST /cpn/v1/accounts/{id}/disable`: an operator disables an account (its tokens stop working at once). */
export const DisableAccount = message({ reason: z.string().min(1).max(2000) });
export type DisableAccount = z.output<typeof DisableAccount>;

/** `POST /cpn/v1/tokens`: a person exchanges a password for a short-lived API token. */
export const TokenRequest = message({
  account: z.string().min(1).max(63),
  password: z.string().min(1).max(200),
  ttlSeconds: z.number().int().min(60).max(3600).optional(),
});
export type TokenRequest = z.output<typeof TokenRequest>;

/**
 * `POST /cpn/v1/tokens/viewer`: an operator of the node (or the node itself) mints an API token for one of its viewer
 * accounts, without the viewer's password (a visualiser renews the token it shows the page with this).
 */
export const ViewerTokenRequest = message({
  viewer: z.string().min(1).max(63).describe('a viewer account of this node'),
  ttlSeconds: z.number().int().min(60).max(3600).optional(),
});
export type ViewerTokenRequest = z.output<typeof ViewerTokenRequest>;

/** `POST /cpn/v1/joint-debug`: a node asks its parent (or the national node) to run the joint-debugging checks on it. */
export const JointDebugRequest = message({
  target: Prefix,
  endpoint: z.url({ protocol: /^https?$/ }),
  result: JsonData.optional().describe("the requester's own results of the checks run the other way"),
});
export type JointDebugRequest = z.output<typeof JointDebugRequest>;

/**
 * `POST /cpn/v1/joint-debug/request`: a parent (or the national node) asks a node below it to run the joint-debugging
 * checks on it again and submit a fresh result (a rehearsal's checker does this at every run, so only a result of
 * this run counts).
 */
export const JointDebugRerun = message({
  reason: z.string().max(200).optional().describe('why the checks are asked for, shown in the log'),
  request: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('an id the node echoes as `ext.request` in the result it submits, so the asker counts only that result'),
});
export type JointDebugRerun = z.output<typeof JointDebugRerun>;

/** `PATCH`-like lifecycle notice a node sends about itself or a child, carried upward (ND record data changes). */
export const LifecycleNotice = message({
  target: Prefix,
  lifecycle: z.enum([
    'applied',
    'reviewing',
    'approved',
    'rejected',
    'joint-debugging',
    'accepted',
    'online',
    'suspended',
    'revoked',
  ]),
  reason: z.string().max(2000).optional(),
});
export type LifecycleNotice = z.output<typeof LifecycleNotice>;
