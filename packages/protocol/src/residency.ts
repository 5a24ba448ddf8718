/**
 * Data residency of a task or dataset: where its data may be processed.
 * The one rule used by the scheduler's filter and by the authorisation policy.
 */
export interface DataResidency {
  /** Province codes (GB/T 2260) the data may be processed in; absent means any mainland province. */
  readonly provinces?: readonly string[];
  /** Processing in Hong Kong, Macao or Taiwan counts as leaving the mainland (数据出境) and needs this. */
  readonly allowOutsideMainland?: boolean;
}

/** Province codes outside the mainland for data-export purposes. */
export const OUTSIDE_MAINLAND: readonly string[] = ['71', '81', '82'];

/** Whether data under `residency` may be processed in `province`, and why not. */
export type ResidencyVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** Decides whether data under `residency` may be processed in `province`. */
export function residencyVerdict(residency: DataResidency | undefined, province: string): ResidencyVerdict {
  if (OUTSIDE_MAINLAND.includes(province) && !residency?.allowOutsideMainland) {
    return { allowed: false, reason: `province ${province} is outside the mainland and the data may not leave it` };
  }
  const list = residency?.provinces;
  if (list && list.length > 0 && !list.includes(province)) {
    return { allowed: false, reason: `data residency allows provinces ${list.join(', ')}, not ${province}` };
  }
  return { allowed: true };
}
