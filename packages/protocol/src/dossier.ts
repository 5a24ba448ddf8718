import { z } from 'zod';
import { CreditCode, IndustryCode, message, ProvinceCode, Time } from './primitives.ts';
import { CreditRecord } from './onboarding.ts';

// Texts may be empty here: the guide's rules (in @cpnet/guide) say which sections a province requires, with a reason
// in Chinese or English, so one validation run lists every missing section instead of stopping at the first.
const Text = z.string().max(100_000);
const Name = z.string().max(200);
const WanYuan = z.number().finite().nonnegative().max(1e9);

/** Registered capital (注册资金) in 万元: paid-in (实缴) and subscribed (认缴) told apart. */
export const Capital = message({ paidInWanYuan: WanYuan, subscribedWanYuan: WanYuan });
export type Capital = z.output<typeof Capital>;

/** A telecom business licence (电信业务经营许可证): number, business categories (scope) and validity. */
export const TelecomLicence = message({
  number: z.string().max(100),
  scope: z.array(z.string().max(200)).max(50).describe('business categories, e.g. "B1.互联网数据中心业务"'),
  issuer: z.string().max(200),
  validFrom: z.iso.date(),
  validUntil: z.iso.date(),
});
export type TelecomLicence = z.output<typeof TelecomLicence>;

/** The builder (建设主体) of a dossier. */
export const DossierBuilder = message({
  name: Name,
  creditCode: CreditCode,
  capital: Capital,
  fundingCapacity: Text.describe('持续资金保障能力: how the construction is funded over its whole period'),
});
export type DossierBuilder = z.output<typeof DossierBuilder>;

/** The operator (运营主体) with its licence and its 场地、设备和人员. */
export const DossierOperator = message({
  name: Name,
  creditCode: CreditCode,
  licence: TelecomLicence.nullable().describe('null for a public institution (事业单位, credit code 12…)'),
  site: message({
    province: ProvinceCode,
    city: z.string().max(100),
    address: z.string().max(500),
    areaM2: z.number().finite().nonnegative().max(1e8),
  }),
  equipment: z
    .array(message({ name: Name, model: z.string().max(200).optional(), quantity: z.number().int().min(0).max(1e7) }))
    .max(500),
  staff: message({ total: z.number().int().min(0).max(1e6), technical: z.number().int().min(0).max(1e6) }),
});
export type DossierOperator = z.output<typeof DossierOperator>;

/** Who declares (区域节点: 共同申报) or recommends (行业节点: 推荐) the application, and the 市州 it comes from. */
export const DeclaringAuthority = message({
  kind: z.enum(['declared', 'recommended']),
  agencies: z.array(z.string().max(200)).max(10),
  city: z.string().max(100).nullable().describe('the 市州 whose 初审推荐 an industry application goes through'),
});
export type DeclaringAuthority = z.output<typeof DeclaringAuthority>;

/** 申报书 (附件2/3): the form of the application. */
export const Declaration = message({
  role: z.enum(['regional', 'industry']),
  region: ProvinceCode,
  industry: IndustryCode.nullable(),
  name: Name.describe('the node’s name'),
  summary: Text,
  builder: DossierBuilder,
  operator: DossierOperator,
  consortium: message({
    members: z.array(message({ name: Name, creditCode: CreditCode, duty: z.string().max(200) })).max(20),
  }).nullable(),
  credit: message({ records: z.array(CreditRecord).max(100) }),
  authority: DeclaringAuthority,
  contact: message({ name: z.string().max(100), phone: z.string().max(40), email: z.string().max(200) }),
});
export type Declaration = z.output<typeof Declaration>;

/** A milestone of the 实施计划. */
export const Milestone = message({ title: Name, due: z.iso.date() });
export type Milestone = z.output<typeof Milestone>;

/** 节点建设方案 (附件1): the sections the guide names. */
export const ConstructionPlan = message({
  goals: Text.describe('建设目标'),
  content: Text.describe('建设内容'),
  technicalRoute: Text.describe('技术路线'),
  schedule: message({ summary: Text, milestones: z.array(Milestone).max(100) }).describe('实施计划'),
  funding: message({
    summary: Text,
    totalWanYuan: WanYuan,
    sources: z.array(message({ source: Name, amountWanYuan: WanYuan })).max(50),
  }).describe('资金保障'),
  security: Text.describe('安全措施'),
  coreSystems: z
    .array(message({ system: Name, detail: Text }))
    .max(50)
    .describe('核心系统建设细节'),
});
export type ConstructionPlan = z.output<typeof ConstructionPlan>;

/** The kinds of attachment the guide lists (四(一)). */
export const AttachmentKind = z.enum([
  'legal-person',
  'funding-proof',
  'telecom-licence',
  'credit-pledge',
  'performance',
  'consortium-agreement',
]);
export type AttachmentKind = z.output<typeof AttachmentKind>;

/** A SHA-256 digest, 64 lower-case hex characters. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex characters (SHA-256)');

/** An attachment as the dossier lists it: the file is stored (and fetched) by its digest. */
export const AttachmentRef = message({
  kind: AttachmentKind,
  file: z.string().min(1).max(200),
  mediaType: z.string().min(1).max(100),
  bytes: z.number().int().min(0),
  sha256: Sha256Hex,
});
export type AttachmentRef = z.output<typeof AttachmentRef>;

/** An application dossier: the 申报书, the 节点建设方案 and the attachment manifest, under a province's guide. */
export const Dossier = message({
  guide: z.string().min(1).max(100).describe('the guide the dossier answers, e.g. sichuan-2026'),
  declaration: Declaration,
  plan: ConstructionPlan,
  attachments: z.array(AttachmentRef).max(50),
});
export type Dossier = z.output<typeof Dossier>;

/** An attachment upload: the file base64-encoded, with its kind and media type (its own body limit). */
export const AttachmentUpload = message({
  kind: AttachmentKind,
  file: z.string().min(1).max(200),
  mediaType: z.string().min(1).max(100),
  contentBase64: z.string().min(1),
});
export type AttachmentUpload = z.output<typeof AttachmentUpload>;

/** A stored attachment's metadata. */
export const AttachmentStored = message({
  kind: AttachmentKind,
  file: z.string(),
  mediaType: z.string(),
  bytes: z.number().int(),
  sha256: Sha256Hex,
  at: Time,
});
export type AttachmentStored = z.output<typeof AttachmentStored>;

/** The review aspects of 联合复审: 资质, 建设方案可行性, 资金保障能力. */
export const ReviewAspect = z.enum(['qualification', 'feasibility', 'funding']);
export type ReviewAspect = z.output<typeof ReviewAspect>;

/** One step of a guide's review chain, as a reviewer (or the applicant, answering an objection) sends it. */
export const ChainStepInput = message({
  stage: z.string().min(1).max(50),
  action: z.enum(['opinion', 'score', 'open-publicity', 'object', 'answer', 'publish', 'false-materials']),
  verdict: z.enum(['pass', 'fail']).optional(),
  comment: z.string().min(1).max(10_000),
  aspects: z
    .array(message({ aspect: ReviewAspect, verdict: z.enum(['pass', 'fail']), comment: z.string().min(1).max(5000) }))
    .max(3)
    .optional()
    .describe('联合复审: each aspect with a verdict and a comment'),
  score: z.number().min(0).max(100).optional().describe('专家评审: this expert’s score'),
  objection: z.number().int().min(1).optional().describe('answer: the number of the objection answered'),
});
export type ChainStepInput = z.output<typeof ChainStepInput>;

/** A step as recorded: who (account and agency), when, and the node's signature over it (compact JWS). */
export const ChainStep = message({
  seq: z.number().int().min(1),
  by: z.string(),
  role: z.string().nullable().describe('the account role, or null for the applicant or another node'),
  agency: z.string().nullable(),
  at: Time,
  step: ChainStepInput,
  signature: z.string().describe('compact JWS (EdDSA) by the node over the step, its author and time'),
});
export type ChainStep = z.output<typeof ChainStep>;

/** An application's review chain under a guide: its steps and where it stands. */
export const ChainState = message({
  application: z.string(),
  guide: z.string(),
  stage: z.string().describe('the stage the application waits in, or done / refused / disqualified'),
  steps: z.array(ChainStep),
});
export type ChainState = z.output<typeof ChainState>;

/** The list of applicants found to have given false materials (取消申报资格，不得再次申报). */
export const DisqualifiedList = message({
  items: z.array(message({ creditCode: z.string(), application: z.string(), at: Time, reason: z.string() })),
});
export type DisqualifiedList = z.output<typeof DisqualifiedList>;

/** An application's dossier as its node holds it: the digest of its canonical JSON and the stored attachments. */
export const DossierState = message({
  application: z.string(),
  sha256: Sha256Hex,
  updatedAt: Time,
  dossier: Dossier,
  attachments: z.array(AttachmentStored),
});
export type DossierState = z.output<typeof DossierState>;

/** An attachment with its bytes, for the applicant and its reviewers. */
export const AttachmentDownload = AttachmentStored.extend({ contentBase64: z.string() });
export type AttachmentDownload = z.output<typeof AttachmentDownload>;

/** `GET /cpn/v1/application-checks`: the guide's rules that need a node, checked for a would-be applicant. */
export const ApplicationChecksQuery = z.strictObject({
  role: z.enum(['regional', 'industry']),
  region: ProvinceCode,
  industry: IndustryCode.optional(),
  creditCodes: z
    .string()
    .max(2000)
    .describe('comma-separated 统一社会信用代码 of the builder, operator and consortium members'),
  lang: z.enum(['zh', 'en']).default('zh'),
});
export type ApplicationChecksQuery = z.output<typeof ApplicationChecksQuery>;

/** The answer of `GET /cpn/v1/application-checks`. */
export const ApplicationChecks = message({
  guide: z.string(),
  checked: z.array(z.string()),
  reasons: z.array(message({ rule: z.string(), field: z.string(), message: z.string() })),
});
export type ApplicationChecks = z.output<typeof ApplicationChecks>;

/** `GET /cpn/v1/publicity`: applications in 公示 and those on the published list (公布入选节点名单), for anyone. */
export const PublicityList = message({
  guide: z.string(),
  items: z.array(
    message({
      application: z.string(),
      applicant: z.string(),
      name: z.string(),
      builder: z.string(),
      operator: z.string(),
      status: z.enum(['publicity', 'listed']),
      publicityEnds: Time.nullable(),
      objections: z.number().int().min(0),
      unanswered: z.number().int().min(0),
      listedAt: Time.nullable(),
    }),
  ),
});
export type PublicityList = z.output<typeof PublicityList>;
