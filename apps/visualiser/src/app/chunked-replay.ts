import {
  chunkAt,
  parseChunk,
  planChunks,
  windowRecording,
  type Chunk,
  type LoadedChunk,
  type ServedIndex,
} from '../state/chunks.ts';
import { stateFromSnapshot } from '../state/apply.ts';
import { sampleOf, type Sample, type Series } from '../state/series.ts';
import type { Recording } from '../state/types.ts';

/** At most this many events per fetched chunk (at least one snapshot interval). */
const CHUNK_EVENTS = 20_000;
/** Chunks before the playhead are dropped once the window holds more events than this. */
const WINDOW_EVENTS = 200_000;

/** A recording read chunk by chunk through its index: a contiguous window of validated chunks around the playhead. */
export interface ChunkedReplay {
  readonly served: ServedIndex;
  /** The window as a recording (`seek`/`advance` are exact for times in [`from`, `until`)). */
  recording(): Recording & { readonly from: number; readonly until: number };
  /** Whether the loaded window holds virtual time `t`. */
  covers(t: number): boolean;
  /**
   * Loads what `t` needs: the next chunk when `t` is just past the window (appended; `trimmed` when older chunks were
   * dropped), otherwise the chunk holding `t` alone (unless `appendOnly`: a prefetch never replaces the window). The
   * window changes synchronously after the fetch, and not at all when `stale()` says the caller no longer wants it
   * (a later seek), so concurrent prefetches and seeks cannot undo each other. Resolves with whether it changed.
   */
  ensure(
    t: number,
    o?: { appendOnly?: boolean; stale?: () => boolean },
  ): Promise<{ changed: boolean; trimmed: boolean }>;
  /** The trends' samples (one per snapshot) of every chunk loaded so far, kept when chunks leave the window. */
  series(): Series;
  /** Bytes fetched so far (for tests: a seek must not read the whole file). */
  bytes(): number;
}

/** Opens a recording by its index: `url` serves byte ranges, `served` is the server's `GET /recording/index`. */
export function openChunked(url: string, served: ServedIndex & { headerEnd: number }): ChunkedReplay {
  const chunks = planChunks(served, { maxEvents: CHUNK_EVENTS, headerEnd: served.headerEnd });
  let window: LoadedChunk[] = [];
  let fetched = 0;
  const pending = new Map<number, Promise<LoadedChunk>>();
  // Sampled once per chunk: copying a 10,000-cluster snapshot per sample is too slow to redo on every append.
  const samples = new Map<number, Sample[]>();

  const load = (c: Chunk): Promise<LoadedChunk> => {
    const known = pending.get(c.n);
    if (known) return known;
    const p = (async () => {
      if (c.end <= c.start) return parseChunk(c, '');
      const res = await fetch(url, { headers: { range: `bytes=${c.start}-${c.end - 1}` } });
      if (res.status !== 206) throw new Error(`${url}: byte ranges refused (HTTP ${res.status})`);
      const text = await res.text();
      fetched += c.end - c.start;
      const part = parseChunk(c, text);
      samples.set(
        c.n,
        part.snapshots.map((sn) => sampleOf(stateFromSnapshot(sn.state, sn.t))),
      );
      return part;
    })();
    pending.set(c.n, p);
    void p.finally(() => pending.delete(c.n)).catch(() => undefined);
    return p;
  };
  const events = () => window.reduce((n, p) => n + p.events.length, 0);
  const covers = (t: number) => {
    const first = window[0];
    const last = window.at(-1);
    if (!first || !last) return false;
    return (t >= first.chunk.from || first.chunk.n === 0) && t < last.chunk.until;
  };

  return {
    served,
    recording: () => windowRecording(served.header, { parts: window, duration: served.index.t }),
    covers,
    bytes: () => fetched,
    series: () => ({
      everyMs: 10_000,
      samples: [...samples.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, list]) => list),
    }),
    async ensure(t, o = {}) {
      const unchanged = { changed: false, trimmed: false };
      if (covers(t) || chunks.length === 0) return unchanged;
      const target = chunkAt(chunks, t);
      const loaded = await load(target);
      if (covers(t) || o.stale?.()) return unchanged;
      const last = window.at(-1);
      if (last && target.n === last.chunk.n + 1) {
        window = [...window, loaded];
        let trimmed = false;
        while (window.length > 1 && events() > WINDOW_EVENTS && window[1]!.chunk.from <= t) {
          window = window.slice(1);
          trimmed = true;
        }
        return { changed: true, trimmed };
      }
      if (o.appendOnly) return unchanged;
      window = [loaded];
      return { changed: true, trimmed: true };
    },
  };
}
