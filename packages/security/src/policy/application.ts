/** An organisation named in an application, with its 统一社会信用代码. */
export interface Organisation {
  readonly name: string;
  readonly creditCode: string;
}

/**
 * A node application (申报) as the rules see it. The protocol's zod schema is to be aligned with this shape.
 * Money in 万元 as the guide writes it.
 */
export interface NodeApplication {
  readonly role: 'regional' | 'industry';
  /** GB/T 2260 province code. */
  readonly region: string;
  /** GB/T 4754 中类 (industry nodes only), e.g. C151. */
  readonly industry?: string;
  /** 建设主体. */
  readonly builder: Organisation & {
    readonly registeredCapitalWanYuan: number;
    readonly fundingCapacityDeclared: boolean;
  };
  /** 运营主体. */
  readonly operator: Organisation & { readonly telecomLicence?: string };
  /** 联合体: members and whether the consortium agreement is attached. */
  readonly consortium?: { readonly members: readonly Organisation[]; readonly agreementAttached: boolean };
  readonly credit: {
    readonly majorDishonestyRecords: readonly { readonly date: string; readonly description: string }[];
  };
  readonly site: string;
  readonly endpoint: string;
  /** The applicant node's public key (PEM or hex by profile). */
  readonly publicKey: string;
}

/** A node already in the system, for the one-per-province / one-per-industry rules. */
export interface ExistingNode {
  readonly prefix: string;
  readonly role: 'national' | 'regional' | 'industry';
  readonly region?: string;
  readonly industry?: string;
  /** Lifecycle status; rejected and revoked nodes do not count. */
  readonly status: string;
}

/** One broken rule, with the field at fault and a reason a reviewer can read. */
export interface RuleViolation {
  readonly rule:
    | 'capital'
    | 'funding-capacity'
    | 'telecom-licence'
    | 'credit-record'
    | 'credit-code'
    | 'one-regional-per-province'
    | 'one-industry-per-industry'
    | 'consortium-agreement'
    | 'role-fields'
    | 'deadline'
    | 'disqualified';
  readonly field: string;
  readonly reason: string;
}
