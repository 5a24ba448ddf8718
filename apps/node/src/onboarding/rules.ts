import type { Application } from '@cpnet/protocol';
import { checkApplicationRules, type ExistingNode, type NodeApplication, type RuleViolation } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { guideOf } from './guide-file.ts';

/** The prefix an application asks for: CPN.<region> or CPN.<region>.<industry>. */
export function applicantPrefix(app: Pick<Application, 'role' | 'region' | 'industry'>): string {
  return app.role === 'regional' ? `CPN.${app.region}` : `CPN.${app.region}.${app.industry ?? ''}`;
}

/** The wire application in the shape the security package's rules read. */
function ruleShape(app: Application): NodeApplication {
  return {
    role: app.role as 'regional' | 'industry',
    region: app.region,
    ...(app.industry ? { industry: app.industry } : {}),
    builder: app.builder,
    operator: {
      name: app.operator.name,
      creditCode: app.operator.creditCode,
      ...(app.operator.telecomLicence ? { telecomLicence: app.operator.telecomLicence } : {}),
    },
    ...(app.consortium
      ? { consortium: { members: app.consortium.members, agreementAttached: app.consortium.agreement.trim() !== '' } }
      : {}),
    credit: {
      majorDishonestyRecords: app.credit.records
        .filter((r) => r.major)
        .map((r) => ({ date: r.date, description: r.description })),
    },
    site: `${app.site.province} ${app.site.city} ${app.site.address}`,
    endpoint: app.endpoint,
    publicKey: app.publicKey,
  };
}

/** The nodes this node knows of (applications in progress or approved, and peers), for the uniqueness rules. */
async function existingNodes(
  ctx: Pick<NodeContext, 'db'>,
  self: { prefix: string; publicKey: string },
): Promise<ExistingNode[]> {
  // The applicant itself (same code and same key) is not a clash with itself; another key claiming the code is.
  const isSelf = (prefix: string, key: string | null | undefined) => prefix === self.prefix && key === self.publicKey;
  const apps = (await ctx.db.applications.notRejected()).filter(
    (a) => !isSelf(a.applicant, (JSON.parse(a.body) as { publicKey?: string }).publicKey),
  );
  const peers = (await ctx.db.peers.list({ relations: ['child', 'descendant'] })).filter(
    (p) => !isSelf(p.prefix, p.publicKey),
  );
  const fromApps: ExistingNode[] = apps.map((a) => ({
    prefix: a.applicant,
    role: a.role as ExistingNode['role'],
    region: a.region,
    ...(a.industry ? { industry: a.industry } : {}),
    status: a.status,
  }));
  const fromPeers: ExistingNode[] = peers.map((p) => {
    const [, region, industry] = p.prefix.split('.');
    return {
      prefix: p.prefix,
      role: p.role as ExistingNode['role'],
      ...(region ? { region } : {}),
      ...(industry ? { industry } : {}),
      status: p.lifecycle,
    };
  });
  return [...fromApps, ...fromPeers];
}

/** What `brokenRules` uses of the node. */
type BrokenRulesDeps = Pick<NodeContext, 'config' | 'db' | 'deps'>;

/** The rules broken by an application, given an optional reviewer override of the one-industry rule. */
export async function brokenRules(
  ctx: BrokenRulesDeps,
  input: { app: Application; override?: { reviewer: string; reason: string } },
): Promise<RuleViolation[]> {
  // The configured deadline wins; a node following a guide closes applications at the guide's (逾期不再受理).
  const closes = ctx.config.applicationDeadline ?? guideOf(ctx.config)?.deadline;
  const deadline = closes ? Date.parse(closes) : undefined;
  const banned = new Set((await ctx.db.dossiers.disqualified()).map((d) => d.creditCode));
  const parties = [
    ['builder.creditCode', input.app.builder.creditCode],
    ['operator.creditCode', input.app.operator.creditCode],
  ] as const;
  const disqualified: RuleViolation[] = parties
    .filter(([, c]) => banned.has(c))
    .map(([field, c]) => ({
      rule: 'disqualified',
      field,
      reason: `${c} was disqualified for false materials (取消申报资格，不得再次申报)`,
    }));
  const broken = checkApplicationRules(ruleShape(input.app), {
    clock: ctx.deps.clock,
    existing: await existingNodes(ctx, { prefix: applicantPrefix(input.app), publicKey: input.app.publicKey }),
    ...(deadline !== undefined ? { deadline } : {}),
    ...(input.override ? { industryOverride: input.override } : {}),
  });
  return [...disqualified, ...broken];
}

/** Rules a reviewer may override (the others refuse the application outright). */
export const OVERRIDABLE = new Set(['one-industry-per-industry']);
