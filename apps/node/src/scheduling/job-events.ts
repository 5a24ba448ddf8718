import type { Selection } from '@cpnet/scheduler';
import type { EventType, JobExplanation, JobHistoryEntry } from '@cpnet/protocol';
import { regionOf } from '../monitoring/place.ts';
import { traceparentOf } from '../monitoring/trace.ts';
import { tenantKey, type JobRecord } from './job-machine.ts';

/** The event the origin raises for a step relayed from the node that did it. */
const RELAYED_EVENT: Partial<Record<JobHistoryEntry['state'], EventType>> = {
  dispatched: 'job.dispatch',
  running: 'job.run',
  finished: 'job.finish',
  failed: 'job.fail',
  cancelled: 'job.kill',
  replaced: 'job.replace',
  preempted: 'job.evict',
};

/**
 * The `data` of a job event (JobEventData, `@cpnet/protocol`): `extra` first, then where the job comes from and runs
 * (the cluster's province from this node's view, else the region of the cluster's prefix), whose it is, its trace.
 */
export function jobEventData(
  job: JobRecord,
  o: { me: string; provinceOf: (cluster: string) => string | null; extra?: Record<string, unknown> },
): Record<string, unknown> {
  const cluster = job.cluster;
  return {
    ...o.extra,
    origin: job.origin,
    originProvince: regionOf(job.origin),
    tenant: tenantKey(job.origin, job.tenant),
    state: job.state,
    cluster,
    province: cluster ? (o.provinceOf(cluster) ?? regionOf(cluster.split('/')[0]!)) : null,
    owner: job.owner,
    traceparent: traceparentOf(job.id, o.me),
  };
}

/** At the origin, the event for a step another node did (its `data` extras; the caller adds JobEventData), or null. */
export function relayedEvent(
  job: JobRecord,
  e: JobHistoryEntry,
  me: string,
): {
  type: EventType;
  detail: { subject: string; severity: 'info' | 'warning'; data: Record<string, unknown> };
} | null {
  const type = RELAYED_EVENT[e.state];
  if (!type || job.origin !== me || e.node === me) return null;
  return {
    type,
    detail: {
      subject: job.id,
      severity: e.state === 'failed' || e.state === 'replaced' ? 'warning' : 'info',
      data: { relayed: true, reportedBy: e.node, ...(e.detail ? { detail: e.detail } : {}) },
    },
  };
}

/**
 * Why a local placement took `chosen`: gateways that refused, the other candidates of a dry-run selection (ranked
 * below it), then the constraint that excluded most clusters; at most 10.
 */
export function explainPlacement(
  sel: Selection | null,
  o: { chosen: string; refused: readonly { target: string; reason: string }[] },
): JobExplanation & { chosen: string } {
  const rejected = [...o.refused];
  for (const c of sel?.candidates ?? [])
    if (c.clusterId !== o.chosen)
      rejected.push({
        target: c.clusterId,
        reason: `ranked ${c.rank}: score ${c.catsScore.toFixed(1)}/10, est. ${c.costYuan.toFixed(2)} 元`,
      });
  if (sel?.mainObstacle)
    rejected.push({ target: `${sel.mainObstacle.count} clusters`, reason: sel.mainObstacle.message });
  return { chosen: o.chosen, rejected: rejected.slice(0, 10) };
}
