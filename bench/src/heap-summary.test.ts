import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSnapshot, summarise } from './heap-summary.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A heap snapshot of a small worker isolate holding a known structure: 10,000 entries under `globalThis.holder`. The
 * Map is filled in its constructor, not by a hot loop reading `globalThis.holder.byId`: code optimized on the stack
 * (on-stack replacement of such a loop) may embed the Map as a constant, and then the Map, not the Holder, is what
 * holds the entries — the test failed so, once, on a busy machine.
 */
function snapshotOfWorker(): Promise<string> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    class Holder {
      constructor(n) {
        this.byId = new Map(Array.from({ length: n }, (_, i) => ['job-' + i, { id: 'job-' + i, state: 'finished', at: i }]));
      }
    }
    globalThis.holder = new Holder(10000);
    parentPort.postMessage(require('node:v8').writeHeapSnapshot(workerData));`;
  const worker = new Worker(code, { eval: true, workerData: path.join(dir, 'w.heapsnapshot') });
  return new Promise((resolve, reject) => {
    worker.once('message', (file: string) => void worker.terminate().then(() => resolve(file)));
    worker.once('error', reject);
  });
}

describe('heap-summary', () => {
  it('names the structure that holds the memory, with its retained size and its path', async () => {
    const file = await snapshotOfWorker();
    const sum = summarise(parseSnapshot(readFileSync(file)), 10);
    // 10,000 entries of a Map: its table, 10,000 objects and 20,000 strings; over a MiB whatever V8's exact layout.
    const holder = sum.owners.find((o) => o.name === 'Holder');
    expect(holder, sum.owners.map((o) => `${o.name} ${o.retained}`).join('\n')).toBeDefined();
    expect(holder!.retained).toBeGreaterThan(2 ** 20);
    expect(holder!.holds).toMatch(/^\.byId Map/);
    expect(holder!.chain).toContain('.holder');
    expect(sum.byConstructor.find((c) => c.name === 'Object')!.count).toBeGreaterThanOrEqual(10_000);
    // The dominator subtree under an edge name.
    expect(sum.under('byId', 1, 2)[0]).toMatch(/MiB \.byId Map$/);
    expect(sum.total).toBeGreaterThan(holder!.retained);
  }, 120_000);
});
