import type { TimedEvent } from '../state/types.ts';
import type { Store } from './store.ts';
import { pageTime } from './page-clock.ts';

/** What tests and the benchmark read from the page (`window.__cpnetViz`). */
export interface Probe {
  ready: boolean;
  error: string | null;
  mode: string;
  loadStartedMs: number;
  firstRenderMs: number | null;
  frames: number[];
  renderMs: number[];
  t(): number;
  duration(): number;
  events(): readonly TimedEvent[];
  seek(t: number): void;
  /** Bytes of the recording fetched so far when it is read by its index (null: read whole). */
  bytesFetched(): number | null;
  /** Settles when the chunks the last seek or playback asked for are loaded and shown. */
  settled(): Promise<void>;
  play(speed?: number): void;
  pause(): void;
}

/** The probe over the store, installed as `window.__cpnetViz`; `replay` says what the chunked loader has fetched. */
export function installProbe(store: Store, replay: { bytesFetched(): number | null; settled(): Promise<void> }): Probe {
  const probe: Probe = {
    ready: false,
    error: null,
    mode: 'none',
    loadStartedMs: pageTime(),
    firstRenderMs: null,
    frames: [],
    renderMs: [],
    t: () => store.state.t,
    duration: () => store.duration,
    events: () => store.events,
    seek: (time) => store.seek(time),
    bytesFetched: () => replay.bytesFetched(),
    settled: () => replay.settled(),
    play: (speed) => {
      if (speed) store.setSpeed(speed);
      store.setPlaying(true);
    },
    pause: () => store.setPlaying(false),
  };
  (window as unknown as { __cpnetViz: Probe }).__cpnetViz = probe;
  return probe;
}
