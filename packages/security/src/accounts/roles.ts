import type { PersonRole as WirePersonRole } from '@cpnet/protocol';

/**
 * The roles of people with accounts: 审核 reviewer, 运维 operator, 租户 tenant, viewer; the review stages of a
 * province's guide: 市州 city-reviewer (初审推荐), provincial-reviewer (联合复审, 上报), expert (工信部专家评审); after
 * approval 验收 acceptance-officer and 监督指导 supervisor (the expert also reads acceptance evidence). The wire enum
 * (`PersonRole` in @cpnet/protocol) is the one list.
 */
export type PersonRole = WirePersonRole;

/** Every person role. */
export const PERSON_ROLES: readonly PersonRole[] = [
  'reviewer',
  'operator',
  'tenant',
  'viewer',
  'acceptance-officer',
  'supervisor',
  'city-reviewer',
  'provincial-reviewer',
  'expert',
];

/** The API-token scopes of each role; the policy decides each request, scopes bound what a token may even ask. */
export const ROLE_SCOPES: Readonly<Record<PersonRole, readonly string[]>> = {
  reviewer: ['applications:read', 'applications:review', 'records:read'],
  operator: ['records:read', 'records:write', 'nodes:operate', 'providers:operate', 'audit:read', 'metrics:read'],
  tenant: ['jobs:submit', 'jobs:read', 'selection:run', 'records:read'],
  viewer: ['records:read', 'metrics:read'],
  'acceptance-officer': ['acceptance:read', 'acceptance:plan', 'acceptance:decide', 'records:read'],
  supervisor: ['acceptance:read', 'acceptance:supervise', 'records:read'],
  'city-reviewer': ['applications:read', 'applications:review'],
  'provincial-reviewer': ['applications:read', 'applications:review'],
  expert: ['applications:read', 'applications:review', 'acceptance:read', 'records:read'],
};

/** A person's account at a node. */
export interface Account {
  readonly id: string;
  readonly name: string;
  readonly role: PersonRole;
  /** The node prefix the account belongs to. */
  readonly node: string;
  readonly status: 'active' | 'suspended' | 'revoked';
  /** An encoded scrypt hash from `hashPassword`, when the account has a password. */
  readonly passwordHash?: string;
}
