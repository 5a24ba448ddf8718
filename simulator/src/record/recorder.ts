import { RecordingHeader, RecordingLine, type MonitorEvent, type TopologySnapshot } from '@cpnet/protocol';
import type { z } from 'zod';

/** Options of a recorder. */
export interface RecorderOptions {
  readonly header: z.input<typeof RecordingHeader>;
  /** Receives each JSON line (without the newline). */
  readonly sink: (line: string) => void;
  /** The full state at the current moment, for the periodic snapshots. */
  readonly snapshot: (t: number) => z.input<typeof TopologySnapshot>;
  /** Virtual ms between snapshots (≤ 10 s so that a viewer can seek). */
  readonly snapshotEveryMs?: number;
  /** Events arrive from many nodes slightly out of order; they are held this long (virtual ms) and written sorted. */
  readonly reorderWindowMs?: number;
}

/** The parts of a snapshot that grow with the network, which a caller may mark as already checked. */
const BIG_PARTS = ['clusters', 'clusterGroups', 'jobs'] as const;

/**
 * Writes a recording as JSON Lines: the header, then events in virtual-time order, with a full-state snapshot at
 * least every `snapshotEveryMs` of virtual time, and last an `index` line with the byte offset of every snapshot (a
 * viewer reads the tail, then only the lines from the snapshot before the moment it wants). Every line is validated
 * against the protocol before it is written (an event given to `checkedEvent` was validated by the caller).
 */
export function createRecorder(options: RecorderOptions) {
  const every = options.snapshotEveryMs ?? 10_000;
  if (every > 10_000) throw new RangeError('snapshots must come at least every 10 s of virtual time');
  const window = options.reorderWindowMs ?? 1000;
  type Held =
    | { t: number; event: z.input<typeof MonitorEvent>; checked?: boolean }
    | { t: number; state: z.input<typeof TopologySnapshot> };
  const held: Held[] = [];
  const index: { t: number; offset: number; events: number }[] = [];
  let lastWritten = 0;
  let nextSnapshot = 0;
  let lines = 0;
  let events = 0;
  let offset = 0;
  const write = (value: unknown) => {
    const line = JSON.stringify(value);
    options.sink(line);
    lines++;
    offset += Buffer.byteLength(line) + 1;
  };
  write(RecordingHeader.parse(options.header));

  // The big arrays of snapshots (clusters, cluster groups, jobs) taken from a TopologySnapshot the caller validated
  // (`checkedParts`): a periodic snapshot reuses the last subtree answer's arrays, and parsing them again for every
  // snapshot line was a tenth of the simulator's own CPU in the scale run. The rest of the snapshot is validated.
  const checked = new WeakSet<object>();
  const snapshotLine = (t: number, state: z.input<typeof TopologySnapshot>) => {
    const trusted = BIG_PARTS.filter((k) => {
      const part = state[k];
      return part !== undefined && part.length > 0 && checked.has(part);
    });
    if (trusted.length === 0) return RecordingLine.parse({ kind: 'snapshot', t, state });
    const probe = { ...state };
    for (const k of trusted) probe[k] = [];
    const line = RecordingLine.parse({ kind: 'snapshot', t, state: probe });
    if (line.kind !== 'snapshot') throw new Error('unreachable: a snapshot line parsed as another kind');
    const out: Record<string, unknown> = { ...line.state };
    for (const k of trusted) out[k] = state[k];
    return { ...line, state: out };
  };

  const writeSnapshot = (t: number, state: z.input<typeof TopologySnapshot> = options.snapshot(t)) => {
    index.push({ t, offset, events });
    write(snapshotLine(t, state));
    lastWritten = Math.max(lastWritten, t);
    nextSnapshot = t + every;
  };
  const flushUpTo = (t: number) => {
    held.sort((a, b) => a.t - b.t);
    while (held.length > 0 && held[0]!.t <= t) {
      const next = held.shift()!;
      if ('state' in next) {
        writeSnapshot(Math.max(lastWritten, next.t), next.state);
        continue;
      }
      while (next.t >= nextSnapshot) writeSnapshot(Math.max(lastWritten, nextSnapshot));
      lastWritten = Math.max(lastWritten, next.t);
      const line = { kind: 'event' as const, t: lastWritten, event: next.event };
      // An event the caller already validated (its MonitorEvent parse) is not validated a second time.
      write(next.checked ? line : RecordingLine.parse(line));
      events++;
    }
  };

  return {
    /** Adds an event that happened at virtual time `t` (ms since the start). */
    event(t: number, event: z.input<typeof MonitorEvent>): void {
      held.push({ t: Math.max(0, t), event });
    },
    /**
     * Adds an event the caller has just validated: the output of `MonitorEvent.parse` (or `safeParse`), written as
     * it is, without a second validation (the simulator's recording parses every event it receives once).
     */
    checkedEvent(t: number, event: MonitorEvent): void {
      held.push({ t: Math.max(0, t), event, checked: true });
    },
    /**
     * Adds the state the nodes reported for virtual time `t` (a subtree snapshot, asked for while the run goes on):
     * written in its place among the events, and the periodic snapshot is not due until `snapshotEveryMs` after it.
     */
    snapshotAt(t: number, state: z.input<typeof TopologySnapshot>): void {
      held.push({ t: Math.max(0, t), state });
    },
    /**
     * Marks the clusters, cluster groups and jobs of `snapshot` — the output of `TopologySnapshot.parse` (or
     * `validate`) — as checked: a snapshot line holding these very arrays is written without parsing them again.
     */
    checkedParts(snapshot: TopologySnapshot): void {
      for (const k of BIG_PARTS) if (snapshot[k].length > 0) checked.add(snapshot[k]);
    },
    /** Advances to virtual time `t`: writes events older than the reorder window and any snapshot due. */
    tick(t: number): void {
      flushUpTo(t - window);
      if (t - window >= nextSnapshot) writeSnapshot(Math.max(lastWritten, t - window));
    },
    /** Writes everything held, a final snapshot and the index; returns the number of lines. */
    close(t: number): number {
      flushUpTo(Number.POSITIVE_INFINITY);
      writeSnapshot(Math.max(lastWritten, t));
      write(RecordingLine.parse({ kind: 'index', t: lastWritten, events, snapshots: index }));
      return lines;
    },
  };
}

/** A recorder. */
export type Recorder = ReturnType<typeof createRecorder>;

/** Reads and validates a recording; an error names the line. */
export function readRecording(
  text: string,
): { ok: true; header: RecordingHeader; lines: Array<RecordingLine> } | { ok: false; error: string } {
  const rows = text.split('\n').filter((l) => l.trim() !== '');
  if (rows.length === 0) return { ok: false, error: 'line 1: the recording is empty; expected a header' };
  const parsed: Array<RecordingLine> = [];
  let header: RecordingHeader | null = null;
  for (let i = 0; i < rows.length; i++) {
    let json: unknown;
    try {
      json = JSON.parse(rows[i]!);
    } catch {
      return { ok: false, error: `line ${i + 1}: not valid JSON` };
    }
    const r = i === 0 ? RecordingHeader.safeParse(json) : RecordingLine.safeParse(json);
    if (!r.success)
      return {
        ok: false,
        error: `line ${i + 1}: ${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'}`,
      };
    if (i === 0) header = r.data as RecordingHeader;
    else {
      const line = r.data as RecordingLine;
      const prev = parsed.at(-1);
      if (prev && line.t < prev.t)
        return {
          ok: false,
          error: `line ${i + 1}: time ${line.t} is before ${prev.t}; lines must be in virtual-time order`,
        };
      parsed.push(line);
    }
  }
  return { ok: true, header: header!, lines: parsed };
}
