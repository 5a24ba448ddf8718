// The worker-thread side of `node-threads.ts`: hosts simulated nodes (real servers on loopback, each with its own
// SQLite file) and starts, stops and restarts them on the main thread's orders. Its clock reads the time the main
// thread's governor publishes in shared memory, fires its timers when that time passes them, and reports back its
// lag, its requests in flight and its next timer.
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { parentPort, resourceLimits, threadId, workerData } from 'node:worker_threads';
import { stopwatch, systemClock } from '@cpnet/kernel/system';
import { ed25519Profile } from '@cpnet/security';
import { stallThread, type Stall } from '../clock/stall.ts';
import { createThreadClock, type SimClock } from '../clock/virtual-clock.ts';
import { threadCpuMs } from './thread-cpu.ts';
import { sampleAllocations } from './alloc-profile.ts';
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
// CPNET_THREAD_ALLOC_PROFILE=<dir>: every allocation of this thread sampled from its start (the 'allocProfile'
// order writes it), those the collector has freed since included: where the garbage comes from, not what is held.
const allocations = process.env.CPNET_THREAD_ALLOC_PROFILE ? sampleAllocations() : null;
// CPNET_THREAD_CPU_PROFILE=<seconds>:<dir>: this thread's CPU profile of its first <seconds> of wall time, written to
// <dir>/thread-<id>.cpuprofile — a stretch of a long run (the start-up) without profiling the rest of it.
if (process.env.CPNET_THREAD_CPU_PROFILE) profileFirst(process.env.CPNET_THREAD_CPU_PROFILE);
// Milliseconds this thread's isolate spent in garbage collection (what the scale benchmark reports as GC share).
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

// CPNET_NODE_WORK=1: the event-loop time of each node, measured — every callback and promise continuation this thread
// runs is charged to the node whose work started it (an AsyncLocalStorage context entered when the node starts, and
// around its timers, which the thread's clock fires from one queue). Time outside any callback (microtask glue, the
// thread's own clock and messages) is charged to no node. Off by default: the hooks cost a good share of the CPU.
const measuring = process.env.CPNET_NODE_WORK === '1';
const owner = new AsyncLocalStorage<string>();
const workMs = new Map<string, number>();
if (measuring) {
  const elapsed = stopwatch();
  let current: string | undefined;
  let mark = elapsed();
  const stack: (string | undefined)[] = [];
  const charge = () => {
    const t = elapsed();
    if (current !== undefined) workMs.set(current, (workMs.get(current) ?? 0) + t - mark);
    mark = t;
  };
  createHook({
    before() {
      charge();
      stack.push(current);
      current = owner.getStore();
    },
    after() {
      charge();
      current = stack.pop();
    },
  }).enable();
}
/** Runs `fn` as work of node `code` (when measuring). */
const asNode = <T>(code: string, fn: () => T): T => (measuring ? owner.run(code, fn) : fn());
const bound = (code: string, fn: () => void) => (measuring ? () => owner.run(code, fn) : fn);
const clockOf = (code: string): SimClock => ({
  ...clock,
  now: () => clock.now() + (skews.get(code) ?? 0),
  setTimeout: (fn, ms) => clock.setTimeout(bound(code, fn), ms),
  setInterval: (fn, ms) => clock.setInterval(bound(code, fn), ms),
  after: (ms, fn) => clock.after(ms, bound(code, fn)),
});

function nodeOf(key: string): SimNode {
  const sim = nodes.get(key);
  if (!sim) throw new Error(`this thread hosts no node ${key}`);
  return sim;
}

const started = (sim: SimNode) => ({ port: sim.port, privateKey: ed25519Profile.exportPrivateKey(sim.privateKey()) });

async function handle(order: ThreadOrder): Promise<unknown> {
  switch (order.op) {
    case 'start': {
      const spec = order.spec as SimNodeSpec;
      const sim = await asNode(spec.code, () => startSimNode(spec, clockOf(spec.code), time.load));
      nodes.set(order.key, sim);
      return started(sim);
    }
    case 'stop': {
      const sim = nodeOf(order.key);
      await asNode(sim.spec.code, () => sim.stop({ abrupt: order.abrupt }));
      return null;
    }
    case 'restart': {
      const sim = nodeOf(order.key);
      await asNode(sim.spec.code, () => sim.start());
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
    case 'allocProfile': {
      if (!allocations) throw new Error('allocations are sampled only under CPNET_THREAD_ALLOC_PROFILE');
      const file = join(order.dir, `thread-${process.pid}-${threadId}.heapprofile`);
      writeFileSync(file, JSON.stringify(await allocations.stop()));
      return file;
    }
    case 'usage':
      return {
        nodes: nodes.size,
        heapUsed: process.memoryUsage().heapUsed,
        youngGenerationMb: resourceLimits.maxYoungGenerationSizeMb ?? -1,
        activeMs: performance.eventLoopUtilization().active,
        stalledMs: stall?.stalledMs() ?? 0,
        gcMs,
        cpuMs: threadCpuMs(),
        ...(measuring ? { nodeWorkMs: Object.fromEntries(workMs) } : {}),
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

function profileFirst(spec: string): void {
  const [seconds, dir] = [Number(spec.slice(0, spec.indexOf(':'))), spec.slice(spec.indexOf(':') + 1)];
  if (!(seconds > 0) || !dir) throw new Error(`CPNET_THREAD_CPU_PROFILE is <seconds>:<dir>, got ${spec}`);
  const session = new Session();
  session.connect();
  void (async () => {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    // Wall time: the profile is of the machine's work, whatever the virtual clock does.
    await new Promise<void>((r) => systemClock.setTimeout(r, seconds * 1000));
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(dir, `thread-${threadId}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  })();
}
