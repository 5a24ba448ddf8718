import { open } from 'node:fs/promises';
import { RecordingLine, type TopologySnapshot } from '@cpnet/protocol';

/** The index line of a recording (its last line). */
export type RecordingIndex = Extract<RecordingLine, { kind: 'index' }>;

const CHUNK = 64 * 1024;

/** Reads the line that starts at `offset` (up to its newline), reading only as much of the file as it needs. */
async function lineAt(file: string, offset: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const parts: Buffer[] = [];
    let at = offset;
    for (;;) {
      const buf = Buffer.alloc(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, at);
      if (bytesRead === 0) break;
      const nl = buf.subarray(0, bytesRead).indexOf(10);
      if (nl >= 0) {
        parts.push(buf.subarray(0, nl));
        break;
      }
      parts.push(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
    return Buffer.concat(parts).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * The index of a recording, read from the file's tail only (a growing window until the last line is whole), or an
 * error saying why not (a recording written before indexes, or cut short, has none).
 */
export async function readRecordingIndex(
  file: string,
): Promise<{ ok: true; index: RecordingIndex } | { ok: false; error: string }> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    for (let window = CHUNK; ; window *= 4) {
      const start = Math.max(0, size - window);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      const text = buf.toString('utf8').replace(/\n+$/, '');
      const nl = text.lastIndexOf('\n');
      if (nl < 0 && start > 0) continue;
      const last = text.slice(nl + 1);
      let json: unknown;
      try {
        json = JSON.parse(last);
      } catch {
        return { ok: false, error: `${file}: the last line is not JSON; the recording has no index (cut short?)` };
      }
      const line = RecordingLine.safeParse(json);
      if (!line.success || line.data.kind !== 'index')
        return { ok: false, error: `${file}: the last line is not an index line; the recording has no index` };
      return { ok: true, index: line.data };
    }
  } finally {
    await fh.close();
  }
}

/** The snapshot at or before virtual time `t` (the first one when `t` is before it), read by its offset alone. */
export async function readSnapshotBefore(
  file: string,
  o: { index: RecordingIndex; t: number },
): Promise<{ t: number; events: number; offset: number; state: TopologySnapshot } | null> {
  const list = o.index.snapshots;
  if (list.length === 0) return null;
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (list[mid]!.t <= o.t) lo = mid;
    else hi = mid - 1;
  }
  const entry = list[lo]!;
  const line = RecordingLine.parse(JSON.parse(await lineAt(file, entry.offset)));
  if (line.kind !== 'snapshot') throw new Error(`${file}: offset ${entry.offset} is not a snapshot line`);
  return { t: line.t, events: entry.events, offset: entry.offset, state: line.state };
}
