import type { ViewState } from '../state/types.ts';
import type { Store } from './store.ts';

/** What the page's loaders (replay, live) share with main.ts: the store, the status line and a redraw request. */
export interface Page {
  readonly store: Store;
  /** The status line under the header (loading, errors, skipped lines, live history). */
  readonly status: HTMLElement;
  /** The deep link's time, if the page was opened at one (a replay starts there). */
  readonly initialT: number | undefined;
  /** Shows a new state; views redraw (it carries a newer version than the last). */
  replaceState(next: ViewState): void;
  /** Asks for a redraw on the next frame. */
  markDirty(): void;
  /** The failover episodes are to be recomputed with the slow panels (not per event). */
  markEpisodes(): void;
}
