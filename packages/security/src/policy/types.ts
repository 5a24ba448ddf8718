import type { DataResidency } from '@cpnet/protocol';
import type { PersonRole } from '../accounts/roles.ts';

/** Who acts: a node (by prefix), a provider or its gateway (by identifier), or a person with an account. */
export interface Principal {
  readonly kind: 'node' | 'provider' | 'gateway' | 'person';
  /** Node prefix, provider/gateway identifier, or account id. */
  readonly id: string;
  /** The namespace it acts in: the node's prefix, the prefix of a provider's identifier, a person's node. */
  readonly prefix: string;
  readonly status: 'active' | 'suspended' | 'revoked';
  /** For persons. */
  readonly role?: PersonRole;
  /** For providers: their own identifier; for gateways: the provider they serve. */
  readonly owner?: string;
}

/** What is acted on. */
export interface Resource {
  readonly type:
    | 'record'
    | 'cluster'
    | 'pool'
    | 'service'
    | 'provider'
    | 'job'
    | 'node'
    | 'prefix'
    | 'application'
    | 'audit'
    | 'metrics'
    | 'selection'
    | 'acceptance';
  /** The namespace the resource lives in (for `prefix`/`node`: the prefix itself). */
  readonly prefix: string;
  readonly id?: string;
  /** The principal id that owns it (a provider's records, a tenant's jobs). */
  readonly owner?: string;
  /**
   * Jobs: the node the owning tenant's account lives at (the job's origin). A tenant is the pair (node, account):
   * `tenanta` at CPN.51 and `tenanta` at CPN.44 are different people.
   */
  readonly ownerNode?: string;
  /** Applications: the node prefix the application is routed to for review. */
  readonly routedTo?: string;
  /** Applications: the reviewer account ids assigned. */
  readonly reviewers?: readonly string[];
}

/** The actions the policy knows. */
export type Action =
  | 'read'
  | 'create'
  | 'update'
  | 'delete'
  | 'report'
  | 'allocate'
  | 'suspend'
  | 'reinstate'
  | 'revoke'
  | 'review'
  | 'submit'
  | 'cancel'
  | 'place'
  | 'run'
  | 'plan'
  | 'gather'
  | 'accept'
  | 'supervise';

/** A question to the policy. */
export interface AccessRequest {
  readonly principal: Principal;
  readonly action: Action;
  readonly resource: Resource;
  /** Data residency of the task and the province of the candidate placement, for `place`/`submit`. */
  readonly context?: { readonly residency?: DataResidency; readonly province?: string };
}

/** The policy's answer, with the rule that decided and why. */
export interface Decision {
  readonly allowed: boolean;
  /** The deciding rule's name, or null for the default deny. */
  readonly rule: string | null;
  readonly reason: string;
}
