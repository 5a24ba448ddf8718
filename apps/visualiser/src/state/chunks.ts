import type { RecordingHeader, RecordingLine } from '@cpnet/protocol';
import { parseLines, upperBound } from './recording.ts';
import type { Recording, TimedEvent, TimedSnapshot } from './types.ts';

/** The index line a recorder writes last: the byte offset of every snapshot and the events before it. */
export type RecordingIndex = Extract<RecordingLine, { kind: 'index' }>;

/** What `GET /recording/index` of the visualiser's server answers for an indexed recording. */
export interface ServedIndex {
  header: RecordingHeader;
  index: RecordingIndex;
  /** Byte offset where the events end (the index line's offset, or the file's size when the server built the index). */
  end: number;
  /** Whether the server built the index by scanning a recording written without one. */
  built: boolean;
}

/** A byte range of the recording from one snapshot to the next chunk's first snapshot (exclusive). */
export interface Chunk {
  /** Position in the chunk list. */
  readonly n: number;
  /** Snapshots `first` … `next - 1` of the index start in this chunk. */
  readonly first: number;
  readonly next: number;
  readonly start: number;
  /** Exclusive byte offset. */
  readonly end: number;
  /** Virtual time of the chunk's first snapshot; its events lie before `until` (the next chunk's first snapshot). */
  readonly from: number;
  readonly until: number;
  /** Events of the whole recording before this chunk. */
  readonly eventsBefore: number;
}

/**
 * Cuts a recording into chunks at snapshot offsets, each holding at most `maxEvents` events (but at least one snapshot
 * interval). Events before the first snapshot form a chunk of their own starting after the header.
 */
export function planChunks(served: ServedIndex, o: { maxEvents: number; headerEnd: number }): Chunk[] {
  const snaps = served.index.snapshots;
  const chunks: Chunk[] = [];
  const duration = served.index.t;
  if (snaps.length === 0 || snaps[0]!.offset > o.headerEnd) {
    const end = snaps[0]?.offset ?? served.end;
    chunks.push({
      n: 0,
      first: 0,
      next: 0,
      start: o.headerEnd,
      end,
      from: 0,
      until: snaps[0]?.t ?? duration,
      eventsBefore: 0,
    });
  }
  let i = 0;
  while (i < snaps.length) {
    let j = i + 1;
    while (j < snaps.length && snaps[j]!.events - snaps[i]!.events <= o.maxEvents) j++;
    if (j > i + 1 && j < snaps.length && snaps[j]!.events - snaps[i]!.events > o.maxEvents) j--;
    const last = j >= snaps.length;
    chunks.push({
      n: chunks.length,
      first: i,
      next: j,
      start: snaps[i]!.offset,
      end: last ? served.end : snaps[j]!.offset,
      from: snaps[i]!.t,
      until: last ? Number.POSITIVE_INFINITY : snaps[j]!.t,
      eventsBefore: snaps[i]!.events,
    });
    i = j;
  }
  return chunks;
}

/** The chunk holding virtual time `t`: the one whose first snapshot is the latest at or before `t`. */
export function chunkAt(chunks: readonly Chunk[], t: number): Chunk {
  const k = upperBound(
    chunks.map((c) => ({ t: c.from })),
    t,
  );
  return chunks[Math.max(0, k - 1)]!;
}

/** One chunk's lines, validated. */
export interface LoadedChunk {
  readonly chunk: Chunk;
  readonly events: TimedEvent[];
  readonly snapshots: TimedSnapshot[];
  readonly skipped: { line: number; message: string }[];
}

/**
 * Validates a chunk's text (every line with the protocol's schema, as a whole load does). Line numbers in `skipped` are
 * the file's: the header, then one line per event and snapshot before the chunk.
 */
export function parseChunk(chunk: Chunk, text: string): LoadedChunk {
  const rows = text.split('\n');
  const parsed = parseLines(rows, { from: 0, lineOffset: 1 + chunk.eventsBefore + chunk.first });
  const events = parsed.ordered ? parsed.events : [...parsed.events].sort((a, b) => a.t - b.t);
  return { chunk, events, snapshots: parsed.snapshots, skipped: parsed.skipped };
}

/**
 * A recording made of contiguous loaded chunks (a window of the whole): `seek` and `advance` work on it unchanged for
 * any time in [`from`, `until`). `duration` is the whole recording's, from its index.
 */
export function windowRecording(
  header: RecordingHeader,
  o: { parts: readonly LoadedChunk[]; duration: number },
): Recording & { readonly from: number; readonly until: number } {
  const events: TimedEvent[] = [];
  const snapshots: TimedSnapshot[] = [];
  const skipped: { line: number; message: string }[] = [];
  for (const part of o.parts) {
    const base = events.length;
    for (const s of part.snapshots) snapshots.push({ ...s, eventCursor: s.eventCursor + base });
    for (const e of part.events) events.push(e);
    for (const s of part.skipped) skipped.push(s);
  }
  return {
    header,
    events,
    snapshots,
    skipped,
    duration: o.duration,
    from: o.parts[0]?.chunk.from ?? 0,
    until: o.parts.at(-1)?.chunk.until ?? 0,
  };
}
