import { describe, expect, it } from 'vitest';
import { createIngestQueue, type PendingReport } from './ingest.ts';

const report = (seq: number): PendingReport => ({ gateway: 'G', seq, entries: [] });

describe('the ingest queue', () => {
  it('writes reports that arrive together in one transaction and resolves each after the write', async () => {
    const batches: number[][] = [];
    const q = createIngestQueue({
      write: async (b) => {
        batches.push(b.map((r) => r.seq));
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    const first = [0, 1, 2].map((i) => q.submit(report(i)));
    await Promise.all(first);
    const second = [3, 4].map((i) => q.submit(report(i)));
    await Promise.all(second);
    expect(batches).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
  });

  it('rejects every report of a failed write and goes on with the next', async () => {
    let fail = true;
    const q = createIngestQueue({
      write: async () => {
        if (fail) {
          fail = false;
          throw new Error('disk full');
        }
      },
    });
    await expect(q.submit(report(0))).rejects.toThrow('disk full');
    await expect(q.submit(report(1))).resolves.toBeUndefined();
  });
});
