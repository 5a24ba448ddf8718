import { describe, expect, it } from 'vitest';
import { createHopHealth } from './hops.ts';

const T0 = Date.parse('2030-01-01T00:00:00Z');

describe('the next hops resolution remembers', () => {
  it('holds a hop down for downMs of wall time after it failed, and forgets it once it answers', () => {
    let now = T0;
    const hops = createHopHealth({ now: () => now }, 5000);
    expect(hops.isDown('http://a')).toBe(false);
    hops.failed('http://a');
    expect(hops.isDown('http://a')).toBe(true);
    expect(hops.isDown('http://b')).toBe(false);
    now += 4999;
    expect(hops.isDown('http://a')).toBe(true);
    now += 1;
    expect(hops.isDown('http://a')).toBe(false);
    hops.failed('http://a');
    hops.answered('http://a');
    expect(hops.isDown('http://a')).toBe(false);
  });

  it('remembers nothing with downMs 0: every query asks the hop', () => {
    const hops = createHopHealth({ now: () => T0 }, 0);
    hops.failed('http://a');
    expect(hops.isDown('http://a')).toBe(false);
  });
});
