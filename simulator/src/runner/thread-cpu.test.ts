import { describe, expect, it } from 'vitest';
import { parseThreadStat, threadCpuMs } from './thread-cpu.ts';

describe('threadCpuMs', () => {
  it('reads utime and stime after a command name that holds spaces and parentheses', () => {
    const line = '4242 (node (worker) 1) R 1 4242 1 0 -1 4194304 100 0 0 0 250 37 0 0 20 0 9 0 12345 0 0';
    expect(parseThreadStat(line)).toBe(2870);
  });

  it('gives -1 for a line that is not a stat line', () => {
    expect(parseThreadStat('no parentheses here')).toBe(-1);
    expect(parseThreadStat('1 (x) R 1')).toBe(-1);
  });

  it.runIf(process.platform === 'linux')('grows with this thread’s own work', () => {
    const before = threadCpuMs();
    const end = performance.now() + 120;
    let x = 0;
    while (performance.now() < end) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(threadCpuMs() - before).toBeGreaterThanOrEqual(10);
  });
});
