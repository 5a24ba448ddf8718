// CPU time of the calling OS thread, so the scale benchmark can split its process CPU between the node threads and
// the simulator's own thread (virtual clock, link proxies, fake clusters and gateways, tenants, recorder, checker).
// Node 20 has no per-thread `cpuUsage`; Linux gives it in /proc/thread-self/stat (fields 14 and 15, utime and stime
// in clock ticks: 10 ms on this kernel's USER_HZ of 100, coarse but unbiased over a run of seconds).
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on every Linux ABI Node supports). */
const TICKS_PER_S = 100;

/**
 * User + system CPU milliseconds the calling thread has used since it began (wall-clock CPU time, not virtual), or
 * -1 where /proc/thread-self is not available (not Linux).
 */
export function threadCpuMs(): number {
  let stat: string;
  try {
    stat = readFileSync('/proc/thread-self/stat', 'latin1');
  } catch {
    return -1;
  }
  return parseThreadStat(stat);
}

/** utime + stime of a /proc/<pid>/task/<tid>/stat line, in milliseconds (-1 when the line is not one). */
export function parseThreadStat(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const close = stat.lastIndexOf(')');
  if (close < 0) return -1;
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state), so utime (field 14) is fields[11] and stime (field 15) fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return -1;
  return ((utime + stime) * 1000) / TICKS_PER_S;
}
