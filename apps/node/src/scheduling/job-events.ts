import type { Selection } from '@cpnet/scheduler';
import type { DataTransfer, EventType, JobExplanation, JobHistoryEntry } from '@cpnet/protocol';
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

/** A scheduler transfer estimate as the explanation carries it (GiB and 元 to the cent, whole seconds). */
export const wireTransfer = (x: { movedGib: number; yuan: number; secondsToStart: number }): DataTransfer => ({
  movedGib: Math.round(x.movedGib * 100) / 100,
  yuan: Math.round(x.yuan * 100) / 100,
  secondsToStart: Math.round(x.secondsToStart),
});

/**
 * Why a local placement took `chosen`: gateways that refused, the other candidates of a dry-run selection (ranked
 * below it), then the constraint that excluded most clusters; at most 10. Each candidate of a job that names input
 * data carries its transfer (GiB moved, 元, seconds to start), and so does the chosen cluster.
 */

export function explainPlacement(
  sel: Selection | null,
  o: { chosen: string; refused: readonly { target: string; reason: string }[] },
): JobExplanation & { chosen: string } {
  const rejected: JobExplanation['rejected'] = [...o.refused];
  for (const c of sel?.candidates ?? [])
    if (c.clusterId !== o.chosen)
      rejected.push({
        target: c.clusterId,
        reason: `ranked ${c.rank}: score ${c.catsScore.toFixed(1)}/10, est. ${c.costYuan.toFixed(2)} 元`,
        ...(c.transfer ? { transfer: wireTransfer(c.transfer) } : {}),
      });
  if (sel?.mainObstacle)
    rejected.push({ target: `${sel.mainObstacle.count} clusters`, reason: sel.mainObstacle.message });
  // Data has weight: the transfer to the chosen cluster too (a job that names input data; the selection ranks it).
  const mine = sel?.candidates.find((c) => c.clusterId === o.chosen)?.transfer;
  return { chosen: o.chosen, rejected: rejected.slice(0, 10), ...(mine ? { transfer: wireTransfer(mine) } : {}) };
}
