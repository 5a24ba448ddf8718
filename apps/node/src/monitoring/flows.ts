import { formatTime, type FlowEventData } from '@cpnet/protocol';

/**
 * Per-province flow counters of one node: each job event this node raises itself (not the copies an origin raises for
 * relayed steps) counts once under (origin province, cluster province, new state). `drain` turns what gathered since
 * the last call into the `data` of one `job.flows` event, which the event shipper forwards to every ancestor: the
 * ancestors see the whole hierarchy's flows at the cost of one small event per node per interval, instead of every
 * job event (see the package README for the figures).
 */
export function createFlowCounters(clock: { now(): number }) {
  let counts = new Map<string, number>();
  let since = clock.now();
  return {
    /** Counts a job event's data (JobEventData); other data is ignored. */
    count(data: Record<string, unknown> | undefined): void {
      if (!data || data['relayed'] === true || typeof data['state'] !== 'string') return;
      const key = `${String(data['originProvince'] ?? '')}|${String(data['province'] ?? '')}|${data['state']}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
    /** What gathered since the last drain, or null when nothing did. */
    drain(): FlowEventData | null {
      const until = clock.now();
      if (counts.size === 0) {
        since = until;
        return null;
      }
      const flows: FlowEventData['flows'] = [];
      const states: Record<string, number> = {};
      for (const [key, count] of counts) {
        const [from, to, state] = key.split('|') as [string, string, FlowEventData['flows'][number]['state']];
        flows.push({ from: from || null, to: to || null, state, count });
        states[state] = (states[state] ?? 0) + count;
      }
      const data = { since: formatTime(since), until: formatTime(until), flows, states };
      counts = new Map();
      since = until;
      return data;
    },
  };
}
