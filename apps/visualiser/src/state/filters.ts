import type { MonitorEvent } from '@cpnet/protocol';
import type { TimedEvent } from './types.ts';

/** Families of event types, the first segment of a type (`job.fail` → `job`). */
export const EVENT_FAMILIES = [
  'topology',
  'node',
  'provider',
  'cluster',
  'capacity',
  'summary',
  'identifier',
  'application',
  'joint-debug',
  'job',
  'security',
  'fault',
] as const;

const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

/** What the timeline shows: families (empty = all), a minimum severity, a text to find in node/subject/type. */
export interface EventFilter {
  families?: readonly string[];
  minSeverity?: keyof typeof SEVERITY_RANK;
  text?: string;
}

/** The family of an event type. */
function familyOf(type: string): string {
  const dot = type.indexOf('.');
  return dot < 0 ? type : type.slice(0, dot);
}

/** Whether an event passes the filter. */
export function matchesFilter(event: MonitorEvent, filter: EventFilter): boolean {
  if (filter.families && filter.families.length > 0 && !filter.families.includes(familyOf(event.type))) return false;
  if (filter.minSeverity && SEVERITY_RANK[event.severity] < SEVERITY_RANK[filter.minSeverity]) return false;
  const text = filter.text?.trim().toUpperCase();
  if (text) {
    const hay = `${event.type} ${event.node} ${event.subject ?? ''}`.toUpperCase();
    if (!hay.includes(text)) return false;
  }
  return true;
}

/** The last `limit` events at or before `t` (index `end` exclusive) that pass the filter, newest first. */
export function recentEvents(
  events: readonly TimedEvent[],
  options: { end: number; filter: EventFilter; limit: number },
): TimedEvent[] {
  const out: TimedEvent[] = [];
  for (let i = options.end - 1; i >= 0 && out.length < options.limit; i--) {
    const e = events[i]!;
    if (matchesFilter(e.event, options.filter)) out.push(e);
  }
  return out;
}

/** Counts of events per bucket of time, per family, for the timeline's density strip. */
export function eventHistogram(
  events: readonly TimedEvent[],
  options: { duration: number; buckets: number; filter: EventFilter },
): number[] {
  const counts = new Array<number>(options.buckets).fill(0);
  const width = Math.max(1, options.duration) / options.buckets;
  for (const e of events) {
    if (!matchesFilter(e.event, options.filter)) continue;
    const b = Math.min(options.buckets - 1, Math.floor(e.t / width));
    counts[b]!++;
  }
  return counts;
}
