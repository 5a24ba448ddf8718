import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { err, ok, type Result } from '@cpnet/kernel';
import { RecordingHeader, RecordingLine } from '@cpnet/protocol';
import type { RecordingIndex, ServedIndex } from '../state/chunks.ts';

const CHUNK = 64 * 1024;

/** The first line of the file and the byte offset after it. */
async function firstLine(file: string): Promise<{ text: string; end: number }> {
  const fh = await open(file, 'r');
  try {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const buf = Buffer.alloc(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, at);
      if (bytesRead === 0) return { text: Buffer.concat(parts).toString('utf8'), end: at };
      const nl = buf.subarray(0, bytesRead).indexOf(10);
      if (nl >= 0) {
        parts.push(buf.subarray(0, nl));
        return { text: Buffer.concat(parts).toString('utf8'), end: at + nl + 1 };
      }
      parts.push(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** The last line (the recorder's index line) and its byte offset, read from the tail in growing windows. */
async function lastLine(file: string): Promise<{ text: string; offset: number; size: number }> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    for (let window = CHUNK; ; window *= 4) {
      const start = Math.max(0, size - window);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      let endAt = buf.length;
      while (endAt > 0 && buf[endAt - 1] === 10) endAt--;
      const nl = buf.subarray(0, endAt).lastIndexOf(10);
      if (nl < 0 && start > 0) continue;
      return { text: buf.subarray(nl + 1, endAt).toString('utf8'), offset: start + nl + 1, size };
    }
  } finally {
    await fh.close();
  }
}

const PREFIX = /^\{"kind":"(event|snapshot|index)","t":(\d+(?:\.\d+)?)/;

/**
 * Builds the index of a recording written without one (before recorders wrote indexes, or cut short): one streaming
 * pass over the lines, reading each line's kind and time from its first bytes (JSON.parse only when the recorder's
 * key order is not there).
 */
async function scanIndex(file: string, headerEnd: number): Promise<{ index: RecordingIndex; end: number }> {
  const snapshots: { t: number; offset: number; events: number }[] = [];
  let events = 0;
  let lastT = 0;
  let offset = headerEnd;
  let carry = Buffer.alloc(0);
  const take = (line: Buffer, at: number) => {
    const head = line.subarray(0, 64).toString('utf8');
    let kind: string | undefined;
    let t = 0;
    const m = PREFIX.exec(head);
    if (m) {
      kind = m[1];
      t = Number(m[2]);
    } else if (line.length > 0) {
      try {
        const v = JSON.parse(line.toString('utf8')) as { kind?: string; t?: number };
        kind = v.kind;
        t = typeof v.t === 'number' ? v.t : 0;
      } catch {
        return; // a damaged line: the page's validation of its chunk reports it
      }
    }
    if (kind === 'snapshot') snapshots.push({ t: Math.max(t, lastT), offset: at, events });
    if (kind === 'event') events++;
    if (kind === 'event' || kind === 'snapshot') lastT = Math.max(lastT, t);
  };
  for await (const part of createReadStream(file, {
    start: headerEnd,
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    const buf = carry.length ? Buffer.concat([carry, part]) : part;
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl >= 0; nl = buf.indexOf(10, from)) {
      take(buf.subarray(from, nl), offset + from);
      from = nl + 1;
    }
    offset += from;
    carry = Buffer.from(buf.subarray(from));
  }
  if (carry.length) take(carry, offset);
  const end = offset + carry.length;
  return { index: { kind: 'index', t: lastT, events, snapshots }, end };
}

/**
 * What the page needs to open a recording without reading it whole: its header and its index (the recorder's last
 * line, or one built by scanning when there is none), and where the events end.
 */
export async function indexRecording(file: string): Promise<Result<ServedIndex & { headerEnd: number }, string>> {
  const head = await firstLine(file);
  let headerJson: unknown;
  try {
    headerJson = JSON.parse(head.text);
  } catch {
    return err(`${file}: line 1 is not JSON; expected the recording header`);
  }
  const header = RecordingHeader.safeParse(headerJson);
  if (!header.success) return err(`${file}: line 1 is not a recording header`);
  const tail = await lastLine(file);
  try {
    const line = RecordingLine.safeParse(JSON.parse(tail.text));
    if (line.success && line.data.kind === 'index')
      return ok({ header: header.data, index: line.data, end: tail.offset, built: false, headerEnd: head.end });
  } catch {
    /* the last line is cut short: build the index */
  }
  const scanned = await scanIndex(file, head.end);
  return ok({ header: header.data, index: scanned.index, end: scanned.end, built: true, headerEnd: head.end });
}
