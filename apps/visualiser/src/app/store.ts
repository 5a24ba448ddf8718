import type { Episode } from '../state/episodes.ts';
import type { EventFilter } from '../state/filters.ts';
import type { Series } from '../state/series.ts';
import type { Recording, Selection, TimedEvent, ViewState } from '../state/types.ts';

/** Everything the views read; mutated by main.ts and the controls, then views update. */
export interface Store {
  mode: 'replay' | 'live' | 'none';
  recording: Recording | null;
  /** Events in time order (the recording's, or those received live). */
  events: readonly TimedEvent[];
  episodes: Episode[];
  /** Figures over the run (the trends tab): the recording's snapshots, or samples taken live. */
  series: Series;
  state: ViewState;
  duration: number;
  playing: boolean;
  speed: number;
  selection: Selection | null;
  filter: EventFilter;
  liveUrl: string | null;
  liveStatus: string;
  /** How many times faster than the wall the live network's clock runs (`cpnet demo` says), when known. */
  clockSpeed: number | 'max' | null;
  /** Set by views to ask main.ts to move in time or select. */
  seek(t: number): void;
  select(selection: Selection | null): void;
  setPlaying(playing: boolean): void;
  setSpeed(speed: number): void;
  setFilter(filter: EventFilter): void;
  rerender(): void;
}

/** Formats virtual ms as m:ss.s. */
export function formatT(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}

/** Creates an element with attributes and text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** What an id points at: a job, a cluster, another identifier, or a node prefix. */
export function selectionFor(id: string, state: ViewState): Selection {
  if (state.nodes.has(id) || /^CPN(\.\d{2}(\.[A-T]\d{3})?)?$/.test(id)) return { kind: 'node', id };
  if (state.clusters.has(id) || id.includes('/CL-')) return { kind: 'cluster', id };
  if (id.includes('/JB-')) return { kind: 'job', id };
  return { kind: 'identifier', id };
}
