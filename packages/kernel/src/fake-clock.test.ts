import { describe, expect, it } from 'vitest';
import { createFakeClock } from './fake-clock.ts';

describe('createFakeClock', () => {
  it('moves only on advance and set, and set may turn it back', () => {
    const clock = createFakeClock(1000);
    expect(clock.now()).toBe(1000);
    clock.advance(250);
    expect(clock.now()).toBe(1250);
    clock.set(2000);
    expect(clock.now()).toBe(2000);
    clock.set(10);
    expect(clock.now()).toBe(10);
  });

  it('fires due timers in order of due time, then of creation, with now at each due time', () => {
    const clock = createFakeClock(0);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => seen.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push('late'), 31);
    clock.advance(30);
    expect(seen).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(30);
    expect(clock.pending()).toBe(1);
    expect(clock.nextDueAt()).toBe(31);
  });

  it('fires timers that a callback schedules within the same advance', () => {
    const clock = createFakeClock(0);
    const seen: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => seen.push(clock.now()), 5), 5);
    clock.advance(10);
    expect(seen).toEqual([10]);
  });

  it('repeats intervals until cancelled, and cancel is idempotent', () => {
    const clock = createFakeClock(0);
    const seen: number[] = [];
    const cancel = clock.setInterval(() => seen.push(clock.now()), 100);
    clock.advance(350);
    expect(seen).toEqual([100, 200, 300]);
    cancel();
    cancel();
    clock.advance(1000);
    expect(seen).toEqual([100, 200, 300]);
    expect(clock.pending()).toBe(0);
    expect(clock.nextDueAt()).toBeNull();
  });

  it('resolves sleep when time reaches it', async () => {
    const clock = createFakeClock(0);
    let woke = false;
    const done = clock.sleep(50).then(() => {
      woke = true;
    });
    clock.advance(49);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await done;
    expect(woke).toBe(true);
  });
});
