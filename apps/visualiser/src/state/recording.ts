import { err, ok, type Result } from '@cpnet/kernel';
import { RecordingHeader, RecordingLine } from '@cpnet/protocol';
import type { Recording, TimedEvent, TimedSnapshot } from './types.ts';

function issueText(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const first = error.issues[0];
  if (!first) return 'invalid';
  const path = first.path.map(String).join('.');
  return path ? `${path}: ${first.message}` : first.message;
}

/**
 * Parses a recording (JSON Lines: a header, then events and snapshots in virtual-time order).
 * A bad header fails the whole load; a bad later line is skipped and reported, so a viewer still shows the rest.
 */
export function parseRecording(text: string): Result<Recording, string> {
  const rows = text.split('\n');
  let index = 0;
  while (index < rows.length && rows[index]!.trim() === '') index++;
  if (index >= rows.length) return err('the recording is empty; expected a header line {"kind":"cpnet-recording",…}');
  let headerJson: unknown;
  try {
    headerJson = JSON.parse(rows[index]!);
  } catch {
    return err(`line ${index + 1}: not JSON; expected the recording header`);
  }
  const header = RecordingHeader.safeParse(headerJson);
  if (!header.success) return err(`line ${index + 1}: invalid recording header: ${issueText(header.error)}`);

  const { events, snapshots, skipped, lastT, ordered } = parseLines(rows, { from: index + 1, lineOffset: 0 });
  if (!ordered) return ok(reorder(header.data, { events, snapshots, skipped }));
  return ok({ header: header.data, events, snapshots, skipped, duration: lastT });
}

/** The lines of one part of a recording, validated one by one (a bad line is skipped and reported). */
export interface ParsedLines {
  events: TimedEvent[];
  snapshots: TimedSnapshot[];
  skipped: { line: number; message: string }[];
  lastT: number;
  ordered: boolean;
}

/**
 * Validates `rows[from…]` as recording lines (events, snapshots; the index line is left out). `lineOffset` is added to
 * reported line numbers, for a part read from the middle of a file; snapshots' cursors count this part's events.
 */
export function parseLines(rows: readonly string[], o: { from: number; lineOffset: number }): ParsedLines {
  const events: TimedEvent[] = [];
  const snapshots: TimedSnapshot[] = [];
  const skipped: { line: number; message: string }[] = [];
  let lastT = 0;
  let ordered = true;
  for (let i = o.from; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(row);
    } catch {
      skipped.push({ line: o.lineOffset + i + 1, message: 'not JSON' });
      continue;
    }
    const line = RecordingLine.safeParse(json);
    if (!line.success) {
      skipped.push({ line: o.lineOffset + i + 1, message: issueText(line.error) });
      continue;
    }
    const v = line.data;
    // The index (the last line) serves readers that open a recording from its tail; a whole read needs none.
    if (v.kind === 'index') continue;
    if (v.t < lastT) ordered = false;
    lastT = Math.max(lastT, v.t);
    if (v.kind === 'event') events.push({ t: v.t, event: v.event });
    else snapshots.push({ t: v.t, state: v.state, eventCursor: events.length });
  }
  return { events, snapshots, skipped, lastT, ordered };
}

// A recorder should write in time order; if it did not, sort stably and place each snapshot after the events up to its time.
function reorder(header: Recording['header'], parts: Pick<Recording, 'events' | 'snapshots' | 'skipped'>): Recording {
  const events = [...parts.events].sort((a, b) => a.t - b.t);
  const snapshots = [...parts.snapshots]
    .sort((a, b) => a.t - b.t)
    .map((s) => ({ ...s, eventCursor: upperBound(events, s.t) }));
  const duration = Math.max(events.at(-1)?.t ?? 0, snapshots.at(-1)?.t ?? 0);
  return { header, events, snapshots, skipped: parts.skipped, duration };
}

/** Index of the first item with t > time (items sorted by t). */
export function upperBound(items: readonly { t: number }[], time: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.t <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
