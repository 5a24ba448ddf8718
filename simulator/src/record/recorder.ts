import { RecordingHeader, RecordingLine, type MonitorEvent, type TopologySnapshot } from '@cpnet/protocol';
import type { z } from 'zod';

/** Options of a recorder. */
export interface RecorderOptions {
  readonly header: z.input<typeof RecordingHeader>;
  /** Receives each JSON line (without the newline). */
  readonly sink: (line: string) => void;
  /** The full state at the current moment, for the periodic snapshots. */
  readonly snapshot: () => z.input<typeof TopologySnapshot>;
  /** Virtual ms between snapshots (≤ 10 s so that a viewer can seek). */
  readonly snapshotEveryMs?: number;
  /** Events arrive from many nodes slightly out of order; they are held this long (virtual ms) and written sorted. */
  readonly reorderWindowMs?: number;
}

/**
 * Writes a recording as JSON Lines: the header, then events in virtual-time order, with a full-state snapshot at
 * least every `snapshotEveryMs` of virtual time. Every line is validated against the protocol before it is written.
 */
export function createRecorder(options: RecorderOptions) {
  const every = options.snapshotEveryMs ?? 10_000;
  if (every > 10_000) throw new RangeError('snapshots must come at least every 10 s of virtual time');
  const window = options.reorderWindowMs ?? 1000;
  const held: Array<{ t: number; event: z.input<typeof MonitorEvent> }> = [];
  let lastWritten = 0;
  let nextSnapshot = 0;
  let lines = 0;
  const write = (value: unknown) => {
    options.sink(JSON.stringify(value));
    lines++;
  };
  write(RecordingHeader.parse(options.header));

  const writeSnapshot = (t: number) => {
    write(RecordingLine.parse({ kind: 'snapshot', t, state: options.snapshot() }));
    nextSnapshot = t + every;
  };
  const flushUpTo = (t: number) => {
    held.sort((a, b) => a.t - b.t);
    while (held.length > 0 && held[0]!.t <= t) {
      const next = held.shift()!;
      while (next.t >= nextSnapshot) writeSnapshot(Math.max(lastWritten, nextSnapshot));
      lastWritten = Math.max(lastWritten, next.t);
      write(RecordingLine.parse({ kind: 'event', t: lastWritten, event: next.event }));
    }
  };

  return {
    /** Adds an event that happened at virtual time `t` (ms since the start). */
    event(t: number, event: z.input<typeof MonitorEvent>): void {
      held.push({ t: Math.max(0, t), event });
    },
    /** Advances to virtual time `t`: writes events older than the reorder window and any snapshot due. */
    tick(t: number): void {
      flushUpTo(t - window);
      if (t >= nextSnapshot) writeSnapshot(Math.max(lastWritten, t));
    },
    /** Writes everything held and a final snapshot. */
    close(t: number): number {
      flushUpTo(Number.POSITIVE_INFINITY);
      writeSnapshot(Math.max(lastWritten, t));
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
