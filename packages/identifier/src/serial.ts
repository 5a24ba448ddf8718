import type { TimeSource } from '@cpnet/kernel';
import { CROCKFORD_ALPHABET } from './alphabet.ts';

const TIME_CHARS = 10;
const COUNTER_CHARS = 2;
const COUNTER_LIMIT = 32 ** COUNTER_CHARS;
const DECODE: Readonly<Record<string, number>> = Object.fromEntries([...CROCKFORD_ALPHABET].map((ch, i) => [ch, i]));

function encode(value: number, width: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < width; i++) {
    out = CROCKFORD_ALPHABET[v % 32]! + out;
    v = Math.floor(v / 32);
  }
  return out;
}

/** Decodes a generated 12-character serial into its millisecond time and counter, or null if it is not one. */
export function decodeSerial(serial: string): { ms: number; counter: number } | null {
  if (serial.length !== TIME_CHARS + COUNTER_CHARS) return null;
  let ms = 0;
  let counter = 0;
  for (let i = 0; i < serial.length; i++) {
    const v = DECODE[serial[i]!];
    if (v === undefined) return null;
    if (i < TIME_CHARS) ms = ms * 32 + v;
    else counter = counter * 32 + v;
  }
  return { ms, counter };
}

/** Issues serials under one prefix. */
export interface SerialAllocator {
  /** A new 12-character serial, strictly greater (and so later-sorting) than every one issued before. */
  next(): string;
  /** The last serial issued, for persisting. */
  readonly last: string | null;
}

/**
 * Creates a generator of 12-character, time-ordered, strictly increasing serials: 10 characters of Unix
 * milliseconds (as in ULID) and 2 of a counter within the millisecond. When the clock stands still or goes back,
 * or 1,024 serials are issued within one millisecond, the logical time moves on by one millisecond, so serials
 * never repeat. Pass `after` (the last serial persisted) to continue after a restart.
 */
export function createSerialAllocator(options: { clock: TimeSource; after?: string | null }): SerialAllocator {
  const resumed = options.after ? decodeSerial(options.after) : null;
  let lastMs = resumed ? resumed.ms : -1;
  let counter = resumed ? resumed.counter : COUNTER_LIMIT - 1;
  let last: string | null = options.after ?? null;
  return {
    next(): string {
      const now = Math.floor(options.clock.now());
      if (now > lastMs) {
        lastMs = now;
        counter = 0;
      } else if (counter + 1 < COUNTER_LIMIT) {
        counter += 1;
      } else {
        lastMs += 1;
        counter = 0;
      }
      last = encode(lastMs, TIME_CHARS) + encode(counter, COUNTER_CHARS);
      return last;
    },
    get last() {
      return last;
    },
  };
}
