import type { TimedEvent } from './types.ts';

/** A failover episode: from a failure to the matching recovery (end null while still failed). */
export interface Episode {
  readonly kind: 'node' | 'cluster' | 'job';
  readonly subject: string;
  readonly start: number;
  readonly end: number | null;
  readonly startEvent: string;
  readonly endEvent: string | null;
  /** For a job: the cluster it was re-placed on, when the recovery said so. */
  readonly replacedOn?: string;
}

const JOB_RECOVERY = new Set(['job.replace', 'job.schedule', 'job.dispatch', 'job.run', 'job.finish']);

function healthOf(data: Record<string, unknown>): string | undefined {
  for (const k of ['health', 'to', 'status']) if (typeof data[k] === 'string') return data[k];
  return undefined;
}

/**
 * Failover episodes of a recording: a node or cluster going down until it is healthy again (degraded counts as
 * recovered: it serves), and a failed job until it is re-placed or runs again.
 */
export function failoverEpisodes(events: readonly TimedEvent[]): Episode[] {
  const open = new Map<string, { kind: Episode['kind']; subject: string; start: number; startEvent: string }>();
  const done: Episode[] = [];
  const close = (key: string, at: { t: number; id: string; replacedOn?: string }) => {
    const o = open.get(key);
    if (!o) return;
    open.delete(key);
    done.push({ ...o, end: at.t, endEvent: at.id, ...(at.replacedOn ? { replacedOn: at.replacedOn } : {}) });
  };
  for (const { t, event } of events) {
    const subject = event.subject ?? event.node;
    if (event.type === 'node.health' || event.type === 'cluster.health') {
      const kind = event.type === 'node.health' ? 'node' : 'cluster';
      const key = `${kind}:${subject}`;
      const h = healthOf(event.data);
      if (h === 'down' && !open.has(key)) open.set(key, { kind, subject, start: t, startEvent: event.id });
      else if (h === 'healthy' || h === 'degraded') close(key, { t, id: event.id });
    } else if (event.type === 'job.fail' || event.type === 'job.lost') {
      const key = `job:${subject}`;
      if (!open.has(key)) open.set(key, { kind: 'job', subject, start: t, startEvent: event.id });
    } else if (JOB_RECOVERY.has(event.type)) {
      const cluster = typeof event.data.cluster === 'string' ? event.data.cluster : undefined;
      close(`job:${subject}`, { t, id: event.id, ...(cluster ? { replacedOn: cluster } : {}) });
    }
  }
  for (const o of open.values()) done.push({ ...o, end: null, endEvent: null });
  return done.sort((a, b) => a.start - b.start);
}

/** Episodes open at time t (started at or before t, not yet ended). */
export function episodesAt(episodes: readonly Episode[], t: number): Episode[] {
  return episodes.filter((e) => e.start <= t && (e.end === null || e.end > t));
}
