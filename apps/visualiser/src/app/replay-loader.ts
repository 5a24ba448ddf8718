import { RecordingHeader, RecordingLine } from '@cpnet/protocol';
import type { ServedIndex } from '../state/chunks.ts';
import { failoverEpisodes } from '../state/episodes.ts';
import { parseRecording } from '../state/recording.ts';
import { seek } from '../state/seek.ts';
import { recordingSeries } from '../state/series.ts';
import { openChunked, type ChunkedReplay } from './chunked-replay.ts';
import { t } from './i18n.ts';
import type { Page } from './page.ts';
import { pageClock } from './page-clock.ts';

/** A replay's loading: the recording read whole, or by its index chunk by chunk (seeks and playback fetch more). */
export interface ReplayLoader {
  /** Loads the recording (by its index when the server offers one) and shows the deep link's time. */
  load(url: string, indexUrl?: string): Promise<void>;
  /** Seeks into a part not loaded yet: true when it fetches (the seek is shown once loaded), false to seek now. */
  seekUnloaded(time: number): boolean;
  /** Where playback may go next: inside the loaded window (fetching the next chunk ahead), or `next` when read whole. */
  playhead(next: number): number;
  /** While a seek waits for its chunk, playback does not move (it would play the old window). */
  seekPending(): boolean;
  /** Bytes of the recording fetched so far when it is read by its index (null: read whole). */
  bytesFetched(): number | null;
  /** Settles when the chunks the last seek or playback asked for are loaded and shown. */
  settled(): Promise<void>;
}

/** The replay loader of a page. */
export function createReplayLoader(page: Page): ReplayLoader {
  const { store, status } = page;
  /** The recording read by its index, chunk by chunk (null when read whole). */
  let chunked: ChunkedReplay | null = null;
  let loading: Promise<void> = Promise.resolve();
  let appending = false;
  /** Counts seeks into unloaded parts: only the latest one's chunk is shown. */
  let seekGeneration = 0;
  let seekPending = false;

  // Shows the loaded window: views read the window's events; a state whose cursor no longer fits is re-sought.
  function showWindow(time: number, reseek: boolean): void {
    if (!chunked) return;
    const rec = chunked.recording();
    store.recording = rec;
    store.events = rec.events;
    store.episodes = failoverEpisodes(rec.events);
    store.series = chunked.series();
    if (reseek) page.replaceState(seek(rec, time));
    page.markDirty();
  }

  async function loadWindow(time: number, reseek: boolean): Promise<void> {
    if (!chunked) return;
    const generation = ++seekGeneration;
    status.textContent = t('loading');
    seekPending = true;
    try {
      const r = await chunked.ensure(time, { stale: () => generation !== seekGeneration });
      if (generation !== seekGeneration) return;
      seekPending = false;
      if (r.changed) showWindow(time, reseek || r.trimmed);
      const skipped = store.recording?.skipped.length ?? 0;
      status.textContent = skipped ? `${skipped} ${t('skipped')}` : '';
    } catch (e) {
      if (generation === seekGeneration) seekPending = false;
      status.textContent = `${t('error')}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /**
   * Playback stays inside the loaded window (events at the next chunk's first snapshot belong to that chunk); the
   * next chunk is fetched while the playhead is in the second half of the last one, so playback rarely waits.
   */
  function chunkedPlayhead(c: ChunkedReplay, next: number): number {
    const rec = store.recording as ReturnType<ChunkedReplay['recording']>;
    const until = rec.until;
    if (Number.isFinite(until) && !appending && next > rec.from + (until - rec.from) / 2) {
      appending = true;
      const at = store.state.t;
      loading = c.ensure(until, { appendOnly: true }).then(
        (r) => {
          appending = false;
          if (r.changed) showWindow(store.state.t, r.trimmed || store.state.t < at);
        },
        (e: unknown) => {
          appending = false;
          store.playing = false;
          status.textContent = `${t('error')}: ${e instanceof Error ? e.message : String(e)}`;
        },
      );
    }
    return Math.min(next, until - 1);
  }

  async function loadIndexed(url: string, indexUrl: string): Promise<boolean> {
    const res = await fetch(indexUrl);
    if (!res.ok) return false;
    const body = (await res.json()) as ServedIndex & { headerEnd: number };
    // The header and the index are validated like every line; the chunks are validated as they arrive.
    const header = RecordingHeader.safeParse(body.header);
    const index = RecordingLine.safeParse(body.index);
    if (!header.success || !index.success || index.data.kind !== 'index' || !Number.isInteger(body.headerEnd))
      throw new Error(`${indexUrl}: not a recording header and index`);
    const served = { ...body, header: header.data, index: index.data };
    chunked = openChunked(url, served);
    store.mode = 'replay';
    store.duration = served.index.t;
    await loadWindow(Math.min(page.initialT ?? 0, served.index.t), true);
    return true;
  }

  async function load(url: string, indexUrl?: string): Promise<void> {
    status.textContent = t('loading');
    if (indexUrl && (await loadIndexed(url, indexUrl))) return;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const text = await res.text();
    const parsed = parseRecording(text);
    if (!parsed.ok) throw new Error(parsed.error);
    const rec = parsed.value;
    store.mode = 'replay';
    store.recording = rec;
    store.events = rec.events;
    store.episodes = failoverEpisodes(rec.events);
    store.series = recordingSeries(rec);
    store.duration = rec.duration;
    page.replaceState(seek(rec, Math.min(page.initialT ?? 0, rec.duration)));
    status.textContent = rec.skipped.length ? `${rec.skipped.length} ${t('skipped')}` : '';
    if (rec.skipped.length)
      pageClock.setTimeout(() => {
        status.textContent = '';
      }, 4000);
  }

  return {
    load,
    seekUnloaded(time) {
      if (!chunked || chunked.covers(time)) return false;
      loading = loadWindow(time, true);
      return true;
    },
    playhead: (next) => (chunked ? chunkedPlayhead(chunked, next) : next),
    seekPending: () => seekPending,
    bytesFetched: () => (chunked ? chunked.bytes() : null),
    settled: () => loading,
  };
}
