import type { MeteringLine } from '@cpnet/protocol';
import { isFinal, type JobRecord } from './job-machine.ts';
import { matches, totals } from './metering.ts';
import type { JobStore } from './ports.ts';

/** A job store in memory (unit tests, and the simulator when durability is not the point). */
export function memoryStore(): JobStore & { jobs: Map<string, JobRecord>; lines: MeteringLine[] } {
  const jobs = new Map<string, JobRecord>();
  const lines: MeteringLine[] = [];
  const copy = (j: JobRecord): JobRecord => structuredClone(j);
  return {
    jobs,
    lines,
    active: () => Promise.resolve([...jobs.values()].filter((j) => !isFinal(j.state)).map(copy)),
    get: (id) => Promise.resolve(jobs.has(id) ? copy(jobs.get(id)!) : null),
    list: (q) =>
      Promise.resolve(
        [...jobs.values()]
          .filter(
            (j) =>
              j.origin === q.origin &&
              (q.tenant === undefined || j.tenant === q.tenant) &&
              (q.after === undefined || j.id > q.after),
          )
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .slice(0, q.limit)
          .map(copy),
      ),
    save: (j) => {
      jobs.set(j.id, copy(j));
      return Promise.resolve();
    },
    addMetering: (l) => {
      if (!lines.some((x) => x.job === l.job && x.cluster === l.cluster && x.from === l.from)) lines.push(l);
      return Promise.resolve();
    },
    metering: (q) => Promise.resolve(lines.filter((l) => matches(l, q))),
    totals: () => Promise.resolve(totals(lines)),
  };
}
