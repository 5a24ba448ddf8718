/**
 * The one authorisation policy of cpnet, as data: a casbin ABAC model and its rules. Deny rules override allow
 * rules; anything no rule allows is denied. Rule conditions are casbin expressions over r.sub (Principal),
 * r.obj (Resource), r.act and r.env; `within`, `childOf`, `strictlyWithin`, `oneOf` and `listed` are functions
 * registered by the engine (identifier's prefix relations, list membership).
 */
export const POLICY_MODEL = `
[request_definition]
r = sub, obj, act, env

[policy_definition]
p = sub_rule, obj_rule, act, eft, name

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = eval(p.sub_rule) && eval(p.obj_rule) && oneOf(r.act, p.act)
`;

/** One policy rule: conditions on the principal and resource, the actions it covers, its effect and name. */
export interface PolicyRule {
  readonly name: string;
  readonly sub: string;
  readonly obj: string;
  /** Space-separated actions, or `*`. */
  readonly act: string;
  readonly eft: 'allow' | 'deny';
  /** Why the rule exists, shown as the reason of a decision. */
  readonly why: string;
}

const NODE = 'r.sub.kind == "node"';
const PERSON = (role: string) => `r.sub.kind == "person" && r.sub.role == "${role}"`;
const OWN_RECORD_TYPES = 'record cluster pool service provider';

/** The rules, deny rules first. */
export const POLICY_RULES: readonly PolicyRule[] = [
  {
    name: 'inactive-principal',
    sub: 'r.sub.status != "active"',
    obj: 'true',
    act: '*',
    eft: 'deny',
    why: 'a revoked or suspended principal is denied everything',
  },
  {
    name: 'data-residency',
    sub: 'true',
    obj: 'r.env.residency == "denied"',
    act: '*',
    eft: 'deny',
    why: 'the data may not be processed in that province',
  },
  {
    name: 'regional-prefix-national-only',
    sub: 'r.sub.kind != "node" || r.sub.prefix != "CPN"',
    obj: 'r.obj.type == "prefix" && r.obj.level == "regional"',
    act: '*',
    eft: 'deny',
    why: 'only the national node allocates regional prefixes',
  },
  {
    name: 'node-own-subtree',
    sub: NODE,
    obj: `within(r.obj.prefix, r.sub.prefix) && oneOf(r.obj.type, "${OWN_RECORD_TYPES} job audit metrics selection")`,
    act: 'read create update delete report place submit cancel run suspend reinstate revoke',
    eft: 'allow',
    why: 'a node acts on its own subtree',
  },
  {
    name: 'node-allocates-child-prefix',
    sub: NODE,
    obj: 'r.obj.type == "prefix" && childOf(r.obj.prefix, r.sub.prefix)',
    act: 'allocate',
    eft: 'allow',
    why: 'a node allocates the prefixes directly below its own',
  },
  {
    name: 'node-governs-children',
    sub: NODE,
    obj: 'r.obj.type == "node" && strictlyWithin(r.obj.prefix, r.sub.prefix)',
    act: 'read suspend reinstate revoke',
    eft: 'allow',
    why: 'a parent suspends, reinstates or revokes nodes below it',
  },
  {
    name: 'node-own-record',
    sub: NODE,
    obj: 'r.obj.type == "node" && r.obj.prefix == r.sub.prefix',
    act: 'read update',
    eft: 'allow',
    why: 'a node reads and updates its own node record',
  },
  {
    name: 'node-reviews-routed-applications',
    sub: NODE,
    obj: 'r.obj.type == "application" && r.obj.routedTo == r.sub.prefix',
    act: 'read review',
    eft: 'allow',
    why: 'a node reviews applications routed to it',
  },
  {
    name: 'provider-own-records',
    sub: 'oneOf(r.sub.kind, "provider gateway")',
    obj: `r.obj.owner == r.sub.owner && within(r.obj.prefix, r.sub.prefix) && oneOf(r.obj.type, "${OWN_RECORD_TYPES}")`,
    act: 'read create update delete report',
    eft: 'allow',
    why: 'a provider changes only its own records',
  },
  {
    name: 'provider-reads-namespace',
    sub: 'oneOf(r.sub.kind, "provider gateway")',
    obj: 'r.obj.type == "record" && within(r.obj.prefix, r.sub.prefix)',
    act: 'read',
    eft: 'allow',
    why: 'a provider reads records of its node',
  },
  {
    name: 'viewer-reads',
    sub: PERSON('viewer'),
    obj: 'within(r.obj.prefix, r.sub.prefix) && oneOf(r.obj.type, "record cluster pool service provider node metrics")',
    act: 'read',
    eft: 'allow',
    why: 'a viewer reads its node subtree',
  },
  {
    name: 'operator-operates',
    sub: PERSON('operator'),
    obj: `within(r.obj.prefix, r.sub.prefix) && oneOf(r.obj.type, "${OWN_RECORD_TYPES} node job audit metrics")`,
    act: 'read update report suspend reinstate',
    eft: 'allow',
    why: 'an operator runs its node subtree',
  },
  {
    name: 'reviewer-routed-applications',
    sub: PERSON('reviewer'),
    obj: 'r.obj.type == "application" && r.obj.routedTo == r.sub.prefix && listed(r.sub.id, r.obj.reviewers)',
    act: 'read review',
    eft: 'allow',
    why: 'a reviewer acts only on applications routed to them',
  },
  {
    name: 'node-authority-acceptance',
    sub: NODE,
    obj: 'r.obj.type == "acceptance" && strictlyWithin(r.obj.prefix, r.sub.prefix)',
    act: 'read plan gather',
    eft: 'allow',
    why: 'the approving node keeps the acceptance cases of the nodes below it (plan and evidence; decisions are people’s)',
  },
  {
    name: 'node-reports-own-construction',
    sub: NODE,
    obj: 'r.obj.type == "acceptance" && r.obj.prefix == r.sub.prefix',
    act: 'read report',
    eft: 'allow',
    why: 'a node reads its own acceptance case and reports progress on its construction milestones',
  },
  {
    name: 'acceptance-officer-decides',
    sub: PERSON('acceptance-officer'),
    obj: 'r.obj.type == "acceptance" && strictlyWithin(r.obj.prefix, r.sub.prefix)',
    act: 'read plan gather accept',
    eft: 'allow',
    why: 'an acceptance officer of the authority plans, gathers evidence and decides 验收 of nodes below it',
  },
  {
    name: 'supervisor-supervises',
    sub: PERSON('supervisor'),
    obj: 'r.obj.type == "acceptance" && strictlyWithin(r.obj.prefix, r.sub.prefix)',
    act: 'read supervise',
    eft: 'allow',
    why: 'a supervisor of the authority suspends, orders rectification, re-inspects and restores nodes below it (监督指导)',
  },
  {
    name: 'acceptance-readers',
    sub: 'r.sub.kind == "person" && oneOf(r.sub.role, "expert operator")',
    obj: 'r.obj.type == "acceptance" && strictlyWithin(r.obj.prefix, r.sub.prefix)',
    act: 'read',
    eft: 'allow',
    why: 'experts and operators of the authority read the acceptance cases of nodes below it',
  },
  {
    name: 'tenant-submits-jobs',
    sub: PERSON('tenant'),
    obj: 'oneOf(r.obj.type, "job selection") && within(r.obj.prefix, r.sub.prefix)',
    act: 'submit run',
    eft: 'allow',
    why: 'a tenant submits jobs and runs selections at its node',
  },
  {
    name: 'tenant-own-jobs',
    sub: PERSON('tenant'),
    obj: 'r.obj.type == "job" && r.obj.owner == r.sub.id && r.obj.ownerNode == r.sub.prefix',
    act: 'read cancel',
    eft: 'allow',
    why: 'a tenant reads and cancels its own jobs (a tenant is the pair node and account)',
  },
];
