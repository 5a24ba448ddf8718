import type { MeteringTotals, TaskTemplate, MeteringLine } from '@cpnet/protocol';
import { formatTime } from '@cpnet/protocol';
import type { TotalsBy } from './ports.ts';

/** One run of a job on a cluster, priced: resource-hours × price (元 per core-hour and per card-hour). */
export function meterRun(run: {
  job: string;
  tenant: string;
  provider: string;
  cluster: string;
  template: TaskTemplate;
  replicas?: number;
  price: { perCoreHourYuan: number; perCardHourYuan: number };
  from: number;
  to: number;
}): MeteringLine {
  const hours = Math.max(0, run.to - run.from) / 3_600_000;
  const replicas = run.replicas ?? run.template.replicas;
  const coreHours = replicas * run.template.demand.cpuCores * hours;
  const cardHours = replicas * (run.template.demand.accelerators?.count ?? 0) * hours;
  const amountYuan = coreHours * run.price.perCoreHourYuan + cardHours * run.price.perCardHourYuan;
  const r = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    job: run.job,
    tenant: run.tenant,
    provider: run.provider,
    cluster: run.cluster,
    coreHours: r(coreHours),
    cardHours: r(cardHours),
    amountYuan: r(amountYuan),
    from: formatTime(run.from),
    to: formatTime(Math.max(run.from, run.to)),
  };
}

/** Totals per tenant and per provider of some metering lines. */
export function totals(lines: readonly MeteringLine[]): TotalsBy {
  const byTenant: Record<string, MeteringTotals> = {},
    byProvider: Record<string, MeteringTotals> = {};
  const jobs = { t: new Map<string, Set<string>>(), p: new Map<string, Set<string>>() };
  const add = (
    m: Record<string, MeteringTotals>,
    at: { seen: Map<string, Set<string>>; key: string; line: MeteringLine },
  ) => {
    const { seen, key: k, line: l } = at;
    const t = (m[k] ??= { jobs: 0, coreHours: 0, cardHours: 0, amountYuan: 0 });
    const s = seen.get(k) ?? new Set<string>();
    seen.set(k, s.add(l.job));
    t.jobs = s.size;
    t.coreHours += l.coreHours;
    t.cardHours += l.cardHours;
    t.amountYuan += l.amountYuan;
  };
  for (const l of lines) {
    add(byTenant, { seen: jobs.t, key: l.tenant, line: l });
    add(byProvider, { seen: jobs.p, key: l.provider, line: l });
  }
  return { byTenant, byProvider };
}

/** Whether a line falls in a query (tenant, provider, and overlap with [from, to]). */
export function matches(
  l: MeteringLine,
  q: { tenant?: string; provider?: string; from?: string; to?: string },
): boolean {
  if (q.tenant !== undefined && l.tenant !== q.tenant) return false;
  if (q.provider !== undefined && l.provider !== q.provider) return false;
  if (q.from !== undefined && Date.parse(l.to) < Date.parse(q.from)) return false;
  if (q.to !== undefined && Date.parse(l.from) > Date.parse(q.to)) return false;
  return true;
}

/** How far a provider's clock may run ahead of the node's (or its time precede the dispatch) before it is refused. */
export const PROVIDER_TIME_SKEW_MS = 30_000;

/**
 * The time of a provider's job update as metering may use it: the provider's claim clipped to what the node observed
 * (not before the dispatch, not after the update arrived). A claim further out than `PROVIDER_TIME_SKEW_MS` is refused.
 */
export function observedTime(
  claimed: number,
  seen: { dispatchedAt: number | null; arrivedAt: number },
): { ok: true; value: number } | { ok: false; error: string } {
  const { dispatchedAt, arrivedAt } = seen;
  const err = (error: string) => ({ ok: false as const, error });
  if (!Number.isFinite(claimed)) return err('the update carries no valid time');
  if (claimed > arrivedAt + PROVIDER_TIME_SKEW_MS)
    return err(
      `the update is dated ${formatTime(claimed)}, ${Math.round((claimed - arrivedAt) / 1000)} s after it arrived ` +
        `(${formatTime(arrivedAt)}); at most ${PROVIDER_TIME_SKEW_MS / 1000} s of clock skew is accepted`,
    );
  if (dispatchedAt !== null && claimed < dispatchedAt - PROVIDER_TIME_SKEW_MS)
    return err(
      `the update is dated ${formatTime(claimed)}, before the job was dispatched (${formatTime(dispatchedAt)}) ` +
        `by more than ${PROVIDER_TIME_SKEW_MS / 1000} s of clock skew`,
    );
  return { ok: true, value: Math.min(arrivedAt, Math.max(dispatchedAt ?? claimed, claimed)) };
}
