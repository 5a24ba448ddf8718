// The worker-thread side of `node-threads.ts`: hosts simulated nodes (real servers on loopback, each with its own
// SQLite file) and starts, stops and restarts them on the main thread's orders. Its clock reads the time the main
// thread's governor publishes in shared memory, fires its timers when that time passes them, and reports back its
// lag, its requests in flight and its next timer.
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { ed25519Profile } from '@cpnet/security';
import { stallThread, type Stall } from '../clock/stall.ts';
import { createThreadClock, type SimClock } from '../clock/virtual-clock.ts';
import { startSimNode, type SimNode, type SimNodeSpec } from './sim-node.ts';
import type { ThreadOrder, ThreadReply, ThreadSetup } from './node-threads.ts';

const port = parentPort;
if (!port) throw new Error('thread-host.ts runs only as a worker thread');
const setup = workerData as ThreadSetup;
const time = createThreadClock(setup);
time.wake();
const clock = time.clock;
const nodes = new Map<string, SimNode>();
const skews = new Map<string, number>();
let stall: Stall | null = null;
/** Heap snapshots written (their files are numbered). */
let snapshots = 0;
// Milliseconds this thread's isolate spent in garbage collection (what the scale benchmark reports as GC share).
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });
const clockOf = (code: string): SimClock => ({ ...clock, now: () => clock.now() + (skews.get(code) ?? 0) });

function nodeOf(key: string): SimNode {
  const sim = nodes.get(key);
  if (!sim) throw new Error(`this thread hosts no node ${key}`);
  return sim;
}

const started = (sim: SimNode) => ({ port: sim.port, privateKey: ed25519Profile.exportPrivateKey(sim.privateKey()) });

async function handle(order: ThreadOrder): Promise<unknown> {
  switch (order.op) {
    case 'start': {
      const sim = await startSimNode(order.spec as SimNodeSpec, clockOf(order.spec.code), time.load);
      nodes.set(order.key, sim);
      return started(sim);
    }
    case 'stop':
      await nodeOf(order.key).stop({ abrupt: order.abrupt });
      return null;
    case 'restart': {
      const sim = nodeOf(order.key);
      await sim.start();
      return started(sim);
    }
    case 'skew':
      if (order.ms === 0) skews.delete(order.code);
      else skews.set(order.code, order.ms);
      return null;
    case 'stall':
      stall?.stop();
      stall = stallThread(order.plan);
      return null;
    case 'heapSnapshot':
      // After a full collection (writeHeapSnapshot takes one), so what it holds is what is retained.
      return writeHeapSnapshot(join(order.dir, `thread-${process.pid}-${threadId}-${++snapshots}.heapsnapshot`));
    case 'usage':
      return {
        nodes: nodes.size,
        heapUsed: process.memoryUsage().heapUsed,
        activeMs: performance.eventLoopUtilization().active,
        stalledMs: stall?.stalledMs() ?? 0,
        gcMs,
      };
  }
}

port.on('message', (order: ThreadOrder) => {
  void handle(order)
    .then(
      (value): ThreadReply => ({ id: order.id, ok: true, value }),
      (e: unknown): ThreadReply => ({ id: order.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    )
    .then((reply) => port.postMessage(reply));
});
