import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { eventId } from './events.ts';

describe('event ids', () => {
  it('begin with the event time, so ids made in time order sort together; distinct within one millisecond', () => {
    const clock = createFakeClock(1_780_000_000_123);
    const deps = { clock, randomBytes: (n: number) => new Uint8Array(randomBytes(n)) };
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      ids.push(eventId(deps));
      if (i % 100 === 99) clock.advance(1);
    }
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const timeOf = (id: string) => Buffer.from(id, 'base64url').readUIntBE(0, 6);
    expect(timeOf(ids[0]!)).toBe(1_780_000_000_123);
    expect(timeOf(ids[999]!)).toBe(1_780_000_000_132);
    // The time bytes ascend with the clock: the index sees neighbours, not scattered keys.
    const times = ids.map(timeOf);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
