import { z } from 'zod';
import { AttachmentKind, IndustryCode, ProvinceCode, TimeInput } from '@cpnet/protocol';

const Title = z.string().min(1).max(200);

/** An agency of the guide: a provincial department, the ministry, or a 市州's bureau. */
export const Agency = z.strictObject({ name: Title, level: z.enum(['city', 'province', 'ministry']) });
export type Agency = z.output<typeof Agency>;

/** An attachment kind the guide asks for, with its limits. */
export const MaterialRule = z.strictObject({
  kind: AttachmentKind,
  title: Title,
  required: z.enum(['always', 'consortium', 'licensed-operator']).describe('when it must be attached'),
  mediaTypes: z.array(z.string().min(1)).min(1),
  maxBytes: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024),
});
export type MaterialRule = z.output<typeof MaterialRule>;

/** A window with an opening and a closing time (any RFC 3339 offset in the file, UTC once read). */
const Window = z.strictObject({ opens: TimeInput, closes: TimeInput });

/** A stage of the review chain, in order. */
export const Stage = z.strictObject({
  key: z.string().regex(/^[a-z][a-z-]{1,40}$/),
  title: Title,
  appliesTo: z.array(z.enum(['regional', 'industry'])).min(1),
  /** Who acts: account roles, and the agencies whose signed opinions the stage needs (all of them, or any one). */
  roles: z.array(z.string().min(1)).min(1),
  agencyLevel: z.enum(['city', 'province', 'ministry']),
  agencies: z.array(Title).default([]).describe('the agencies that must each sign; empty: any agency of the level'),
  signers: z.enum(['all', 'any']).default('any'),
  kind: z.enum(['opinion', 'joint-opinion', 'report', 'panel', 'publicity', 'list']),
  window: Window.optional().describe('steps outside it are refused (逾期不再受理)'),
  days: z.number().int().min(1).max(365).optional().describe('publicity: its period in days'),
  panel: z.strictObject({ minExperts: z.number().int().min(1), passScore: z.number().min(0).max(100) }).optional(),
  source: z.string().max(200).optional().describe('where the guide says so, or "modelled" when it does not'),
});
export type Stage = z.output<typeof Stage>;

/** A province's guide for one year, as data. */
export const GuideFile = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9-]{3,60}$/),
    title: Title,
    province: ProvinceCode,
    year: z.number().int().min(2020).max(2100),
    timezone: z.string().min(1).describe('the zone people read times in, e.g. Asia/Shanghai'),
    published: TimeInput,
    deadline: TimeInput.describe('组织申报 closes: applications after this are refused'),
    agencies: z.array(Agency).min(1),
    applicants: z.strictObject({
      regional: z.strictObject({ perProvince: z.number().int().min(1), declaredBy: z.array(Title).min(1) }),
      industry: z.strictObject({
        perIndustry: z.number().int().min(1),
        recommendedBy: z.array(Title).min(1),
        consortium: z.boolean(),
        focus: z.array(z.strictObject({ code: IndustryCode, name: Title })),
      }),
    }),
    requirements: z.strictObject({
      builderCapitalWanYuan: z.number().min(0),
      capitalBasis: z.enum(['paid-in', 'subscribed', 'paid-in-or-subscribed']),
      licenceNumberPattern: z.string().min(1),
      licenceCategories: z.array(z.string().min(1)).min(1).describe('the scope must hold one of these categories'),
      licenceExemptCreditPrefix: z.string().min(1).describe('credit codes of public institutions (事业单位)'),
      creditYears: z.number().int().min(0),
      minStaff: z.number().int().min(0),
      minEquipment: z.number().int().min(0),
    }),
    plan: z.strictObject({
      sections: z.array(z.strictObject({ key: z.string(), title: Title })).min(1),
      coreSystems: z.strictObject({ regional: z.array(Title), industry: z.array(Title) }),
      minMilestones: z.number().int().min(0),
    }),
    materials: z.array(MaterialRule).min(1),
    falseMaterials: z.enum(['disqualify']).describe('取消申报资格，不得再次申报'),
    stages: z.array(Stage).min(1),
  })
  .superRefine((g, ctx) => {
    const names = new Set(g.agencies.map((a) => a.name));
    g.stages.forEach((s, i) =>
      s.agencies.forEach((a, j) => {
        if (!names.has(a))
          ctx.addIssue({ code: 'custom', path: ['stages', i, 'agencies', j], message: `unknown agency "${a}"` });
      }),
    );
    const keys = g.stages.map((s) => s.key);
    if (new Set(keys).size !== keys.length)
      ctx.addIssue({ code: 'custom', path: ['stages'], message: 'stage keys must be unique' });
  });
export type Guide = z.output<typeof GuideFile>;

/** Reads a parsed guide file (YAML or JSON, parsed by the caller) into a guide, or a message naming the field. */
export function loadGuide(data: unknown): { ok: true; value: Guide } | { ok: false; error: string } {
  const r = GuideFile.safeParse(data);
  if (r.success) return { ok: true, value: r.data };
  const i = r.error.issues[0]!;
  return { ok: false, error: `${i.path.join('.') || '(guide)'}: ${i.message}` };
}
