import { applyEvent, emptyState, stateFromSnapshot } from './apply.ts';
import { upperBound } from './recording.ts';
import type { Recording, ViewState } from './types.ts';

/**
 * The state at virtual time `t`: a copy of the latest snapshot at or before `t`, then every later event up to `t`.
 * Before the first snapshot the events are applied to an empty state.
 */
export function seek(recording: Recording, t: number): ViewState {
  const time = Math.max(0, Math.min(t, recording.duration));
  const s = upperBound(recording.snapshots, time) - 1;
  const snap = s >= 0 ? recording.snapshots[s] : undefined;
  const state = snap ? stateFromSnapshot(snap.state, snap.t) : emptyState(recording.header.startedAt);
  state.cursor = snap ? snap.eventCursor : 0;
  return advance(recording, state, time);
}

/** Snapshots up to this many clusters are taken whenever playback passes them (copying one costs well under a frame). */
const ADOPT_CLUSTERS = 2_000;

/**
 * Whether playback passing `snapshot` should take it: always when the state holds no snapshot yet or the snapshot's
 * clusters differ in number (the real recorder's clusters, capacity and prices come only with snapshots), and for
 * small networks every time; a large one (10,000 clusters) is copied only when far behind (the 5,000-event rule),
 * which keeps its frames smooth.
 */
function adopt(snapshot: { nodes: readonly unknown[]; clusters: readonly unknown[] }, state: ViewState): boolean {
  return (
    state.nodes.size === 0 ||
    snapshot.clusters.length !== state.clusters.size ||
    snapshot.clusters.length <= ADOPT_CLUSTERS
  );
}

/**
 * Moves a state forward to `t` by applying the events in between (cheap during playback). Moving backwards, or
 * forwards past a snapshot, seeks from that snapshot instead: snapshots carry what events do not (a real recording's
 * clusters, capacity and prices come only with them, and its first snapshot comes seconds after time 0).
 */
export function advance(recording: Recording, state: ViewState, t: number): ViewState {
  const time = Math.max(0, Math.min(t, recording.duration));
  if (time < state.t) return seek(recording, time);
  const s = upperBound(recording.snapshots, time) - 1;
  const snap = s >= 0 ? recording.snapshots[s] : undefined;
  if (snap && ((snap.t > state.t && adopt(snap.state, state)) || snap.eventCursor - state.cursor > 5000)) {
    // In place, as the event path below: a caller holding `state` sees the snapshot's picture.
    const version = state.version;
    Object.assign(state, seek(recording, time));
    state.version = version + 1;
    return state;
  }
  const { events } = recording;
  let i = state.cursor;
  while (i < events.length && events[i]!.t <= time) {
    applyEvent(state, events[i]!.event, events[i]!.t);
    i++;
  }
  state.cursor = i;
  state.t = time;
  // Scheduling percentiles are not derivable from single events: take them from the latest snapshot passed.
  if (snap) {
    state.counters.schedulingP50Ms = snap.state.counters.schedulingP50Ms ?? state.counters.schedulingP50Ms;
    state.counters.schedulingP99Ms = snap.state.counters.schedulingP99Ms ?? state.counters.schedulingP99Ms;
  }
  state.version++;
  return state;
}
