import { z } from 'zod';
import { CreditCode, IndustryCode, JsonData, message, NodeRole, ProvinceCode, Time, Url } from './primitives.ts';

/** An organisation named in an application. */
export const Organisation = message({
  name: z.string().min(1).max(200),
  creditCode: CreditCode,
});
export type Organisation = z.output<typeof Organisation>;

/** The builder (建设主体) with its registered capital in 万元. */
export const Builder = message({
  name: z.string().min(1).max(200),
  creditCode: CreditCode,
  registeredCapitalWanYuan: z.number().finite().nonnegative(),
  fundingCapacityDeclared: z.boolean(),
});
export type Builder = z.output<typeof Builder>;

/** The operator (运营主体) and its telecom licence (增值电信业务经营许可证), if any. */
export const Operator = message({
  name: z.string().min(1).max(200),
  creditCode: CreditCode,
  telecomLicence: z.string().min(1).max(100).nullable(),
});
export type Operator = z.output<typeof Operator>;

/** A consortium (联合体) and its agreement. */
export const Consortium = message({
  members: z
    .array(message({ name: z.string().min(1).max(200), creditCode: CreditCode, duty: z.string().min(1).max(200) }))
    .min(2)
    .max(20),
  agreement: z.string().min(1).max(100_000),
});
export type Consortium = z.output<typeof Consortium>;

/** A dishonesty record of the credit check. */
export const CreditRecord = message({
  date: z.iso.date(),
  description: z.string().min(1).max(2000),
  major: z.boolean(),
});
export type CreditRecord = z.output<typeof CreditRecord>;

/** The fields of an application, without its cross-field rules. */
const APPLICATION_FIELDS = {
  role: NodeRole.exclude(['national']),
  region: ProvinceCode,
  industry: IndustryCode.nullable().default(null),
  name: z.string().min(1).max(200),
  builder: Builder,
  operator: Operator,
  consortium: Consortium.nullable().default(null),
  credit: message({ records: z.array(CreditRecord).max(100) }),
  site: message({ province: ProvinceCode, city: z.string().min(1).max(100), address: z.string().min(1).max(500) }),
  endpoint: Url,
  publicKey: z.string().min(1).max(10_000).describe('PEM (SPKI) public key of the node'),
  contact: message({ name: z.string().min(1).max(100), phone: z.string().min(3).max(40), email: z.email() }),
};

/** An application (申报) of a node to its parent. */
export const Application = message(APPLICATION_FIELDS).superRefine((a, ctx) => {
  if (a.role === 'industry' && a.industry === null)
    ctx.addIssue({ code: 'custom', path: ['industry'], message: 'an industry node names its 中类' });
  if (a.role === 'regional' && a.industry !== null)
    ctx.addIssue({ code: 'custom', path: ['industry'], message: 'a regional node names no industry' });
});
export type Application = z.output<typeof Application>;

/** A review step (初审推荐 / 联合复审 / final decision). */
export const Review = message({
  decision: z.enum(['approve', 'reject', 'recommend', 'not-recommend']),
  opinion: z.string().min(1).max(10_000),
  override: message({ rule: z.string().min(1), reason: z.string().min(10).max(2000) }).optional(),
});
export type Review = z.output<typeof Review>;

/** What a child receives on approval. */
export const Grant = message({
  prefix: z.string(),
  certificate: z.string(),
  chain: z.array(z.string()),
  delegation: z.string().describe('compact JWS'),
});
export type Grant = z.output<typeof Grant>;

const ApplicationStatus = z.enum(['submitted', 'reviewing', 'forwarded', 'approved', 'rejected']);

/** Where the parent keeps an application: its applicant prefix, where it was routed, who forwarded it. */
const ApplicationExt = z.looseObject({
  applicant: z.string(),
  routedTo: z.string(),
  forwardedBy: z.string().optional(),
});

/**
 * The state of an application as its parent keeps it, with the grant once approved (for the applicant, reviewers,
 * operators and nodes); `ext` carries the applicant prefix, the route (`routedTo`) and the forwarding node.
 */
export const ApplicationState = message({
  id: z.string(),
  application: Application,
  status: ApplicationStatus,
  submittedAt: Time,
  reasons: z.array(message({ rule: z.string(), message: z.string() })),
  reviews: z.array(message({ by: z.string(), at: Time, review: Review })),
  grant: Grant.optional(),
}).extend({ ext: ApplicationExt.optional() });
export type ApplicationState = z.output<typeof ApplicationState>;

/**
 * An application's state as anyone may read it: no contact person, no reviewers' names or opinions, no grant
 * (`ext.redacted` lists what was left out).
 */
export const PublicApplicationState = message({
  id: z.string(),
  application: message((({ contact: _contact, ...rest }) => rest)(APPLICATION_FIELDS)),
  status: ApplicationStatus,
  submittedAt: Time,
  reasons: z.array(message({ rule: z.string(), message: z.string() })),
  reviews: z.array(message({ at: Time, decision: Review.shape.decision })),
}).extend({ ext: ApplicationExt.extend({ redacted: z.array(z.string()) }) });
export type PublicApplicationState = z.output<typeof PublicApplicationState>;

/** The claims of a prefix delegation JWS. */
export const DelegationClaims = message({
  iss: z.string(),
  prefix: z.string(),
  sub_jkt: z.string(),
  serial: z.string(),
  nbf: z.number().int(),
  exp: z.number().int(),
});
export type DelegationClaims = z.output<typeof DelegationClaims>;

/** A joint-debugging result. */
export const JointDebugResult = message({
  listVersion: z.string(),
  target: z.string(),
  by: z.string(),
  at: Time,
  passed: z.boolean(),
  checks: z.array(
    message({ id: z.string(), description: z.string(), passed: z.boolean(), evidence: JsonData.optional() }),
  ),
});
export type JointDebugResult = z.output<typeof JointDebugResult>;
