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

/**
 * Moves a state forward to `t` by applying the events in between (cheap during playback). Moving backwards, or
 * forwards past a later snapshot with many events in between, seeks from a snapshot instead.
 */
export function advance(recording: Recording, state: ViewState, t: number): ViewState {
  const time = Math.max(0, Math.min(t, recording.duration));
  if (time < state.t) return seek(recording, time);
  const s = upperBound(recording.snapshots, time) - 1;
  const snap = s >= 0 ? recording.snapshots[s] : undefined;
  if (snap && snap.eventCursor - state.cursor > 5000) return seek(recording, time);
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
