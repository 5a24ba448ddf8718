import { mkdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { ed25519Profile, type PrivateKeyHandle } from '@cpnet/security';
import type { StallPlan } from '../clock/stall.ts';
import type { Governor, SimClock } from '../clock/virtual-clock.ts';
import { nodeClients, type SimNode, type SimNodeSpec } from './sim-node.ts';

/** What a node thread is created with: the shared time, its slot in it, and the clock's start and speed. */
export interface ThreadSetup {
  readonly shared: SharedArrayBuffer;
  readonly slot: number;
  readonly start: number;
  readonly speed: number;
}

/** An order from the main thread to a node thread. */
export type ThreadOrder = { readonly id: number } & Order;
type Order =
  | { op: 'start'; key: string; spec: SimNodeSpec }
  | { op: 'stop'; key: string; abrupt: boolean }
  | { op: 'restart'; key: string }
  | { op: 'skew'; code: string; ms: number }
  | { op: 'stall'; plan: StallPlan }
  | { op: 'usage' }
  | { op: 'heapSnapshot'; dir: string }
  | { op: 'allocProfile'; dir: string };

/** A node thread's answer to one order. */
export type ThreadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** What one node thread reports about itself. */
export interface ThreadUsage {
  readonly nodes: number;
  readonly heapUsed: number;
  /** Its isolate's young generation limit, MiB (`resourceLimits.maxYoungGenerationSizeMb` as V8 took it). */
  readonly youngGenerationMb: number;
  /** Milliseconds its event loop has been busy since it started. */
  readonly activeMs: number;
  /** Wall milliseconds a stall (see `stall`) has blocked it. */
  readonly stalledMs: number;
  /** Milliseconds its isolate has spent in garbage collection since it started (perf_hooks `gc` entries). */
  readonly gcMs: number;
  /** CPU milliseconds its own OS thread has used since it began (`threadCpuMs`; -1 where not measurable). */
  readonly cpuMs: number;
  /**
   * With CPNET_NODE_WORK=1: each node's event-loop milliseconds since it started (callbacks and promise continuations
   * its work started, measured with async hooks), by node code.
   */
  readonly nodeWorkMs?: Readonly<Record<string, number>>;
}

/** Worker threads hosting simulated nodes, so that the nodes of a large topology use every core. */
export interface NodeThreads {
  readonly count: number;
  /**
   * Starts a node in a given thread, or else in the least loaded one (the sum of its nodes' weights: 1 by default,
   * more for a node expected to be busy); the returned SimNode drives it from this thread.
   */
  start(spec: SimNodeSpec, o: { key: string; clock: SimClock; weight?: number; thread?: number }): Promise<SimNode>;
  /** Shifts a node's clock in its thread (and nothing here: the caller's SimClock carries its own view). */
  skew(code: string, ms: number): Promise<void>;
  usage(): Promise<ThreadUsage[]>;
  /**
   * Writes a V8 heap snapshot of each thread (or of thread `only`) into `dir` (created if need be; a memory
   * investigation, see bench/src/heap-summary.ts); resolves to the files' paths, in thread order.
   */
  heapSnapshot(dir: string, only?: number): Promise<string[]>;
  /**
   * Writes each thread's allocation profile (`.heapprofile`, sampled from its start: only under
   * CPNET_THREAD_ALLOC_PROFILE) into `dir`; resolves to the files' paths, in thread order.
   */
  allocProfile(dir: string): Promise<string[]>;
  /** Makes one thread keep stalling (a fault for tests of the governed clock: a slowed thread must not lose work). */
  stall(thread: number, plan: StallPlan): Promise<void>;
  /** Terminates the threads (stop the nodes first for a graceful end). */
  close(): Promise<void>;
}

const ENTRY = new URL('./thread-entry.mjs', import.meta.url);

/**
 * How far (percent) a V8 heap may grow past what survived its last full collection before the next one, in a process
 * hosting node threads. V8's own factor adapts to allocation speed and reaches ×4 in a busy isolate: measured in the
 * scale run, a node thread's heap swung between ~150 and ~650 MiB for a live set of ~150 MiB, and the process kept
 * the peaks as RSS. 60 % keeps each heap within 1.6× its live set: in `simulator --small` peak RSS fell from
 * 1,207–1,360 MiB to 865 MiB at the same CPU per job (30 %: 832 MiB, CPU per job 15 % higher; bench/README.md,
 * "Memory, measured").
 */
export const HEAP_GROWING_PERCENT = 60;

/**
 * Sets V8's `--heap-growing-percent` for this process (V8 flags are process-wide: the main thread and every worker;
 * V8 reads it each time it sets a heap's next limit). `env`: `CPNET_HEAP_GROWING_PERCENT` — a percent, or `0` for
 * V8's own adaptive factor; unset: `HEAP_GROWING_PERCENT`.
 */
export function limitHeapGrowth(env: string | undefined): number {
  const percent = env === undefined || env.trim() === '' ? HEAP_GROWING_PERCENT : Number(env);
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000)
    throw new RangeError(`CPNET_HEAP_GROWING_PERCENT must be an integer from 0 to 1000, got "${env}"`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}

/**
 * The young generation of each node thread, MiB (`resourceLimits.maxYoungGenerationSizeMb`). V8 divides it by three
 * (two semi-spaces and the new large-object space) and rounds a semi-space up to a power of two: 128 gives 64 MiB
 * semi-spaces, a worker's default (48) 16 MiB. A node thread hosts dozens of nodes whose requests wait in queues for
 * tens to hundreds of milliseconds of wall time at `max` speed; with 16 MiB a scavenge came every ~100 ms and a fifth
 * of what it found was still alive (in flight), so it was copied and soon promoted, and the old generation's marking
 * (V8's helper threads) followed. Measured (bench/README.md, "The node threads' young generation"): in two full
 * scale pairs 0.76× and 0.91× the CPU per job, for 189 and 306 MiB more peak RSS (1,881 and 1,973 MiB); 64 (32 MiB
 * semi-spaces) gained nothing a run shows.
 */
export const YOUNG_GENERATION_MB = 128;

/**
 * The node threads' young generation, MiB: `env` is `CPNET_YOUNG_GENERATION_MB` — an integer from 16 to 1024, or `0`
 * for Node's default; unset: `YOUNG_GENERATION_MB`.
 */
export function youngGeneration(env: string | undefined): number {
  const mb = env === undefined || env.trim() === '' ? YOUNG_GENERATION_MB : Number(env);
  if (!Number.isInteger(mb) || (mb !== 0 && (mb < 16 || mb > 1024)))
    throw new RangeError(
      `CPNET_YOUNG_GENERATION_MB must be 0 (Node's default) or an integer from 16 to 1024, got "${env}"`,
    );
  return mb;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  nodes: number;
  /** The weights of its nodes, summed. */
  load: number;
  dead: Error | null;
}

/**
 * Starts `count` worker threads for nodes. Each runs its nodes' servers, databases and timers on its own event loop
 * and reads the same virtual time as `clock`. The caller (simulator, providers, clients, link proxies) stays here.
 */
export function startNodeThreads(options: { count: number; governor: Governor }): NodeThreads {
  if (!Number.isInteger(options.count) || options.count < 1)
    throw new RangeError(`node threads: count must be a positive integer, got ${options.count}`);
  const clock = options.governor.clock;
  limitHeapGrowth(process.env.CPNET_HEAP_GROWING_PERCENT);
  const young = youngGeneration(process.env.CPNET_YOUNG_GENERATION_MB);
  let nextId = 1;
  const threads: Thread[] = Array.from({ length: options.count }, () => {
    const setup: ThreadSetup = {
      shared: options.governor.shared,
      slot: options.governor.attach(),
      start: clock.now() - clock.elapsed(),
      speed: clock.speed,
    };
    // CPNET_THREAD_CPU_PROF=<dir>: each node thread writes a V8 CPU profile there (`--cpu-prof`; open it in Chrome's
    // DevTools or speedscope) when it ends — how to see where a scale run's time goes.
    const profDir = process.env.CPNET_THREAD_CPU_PROF;
    const worker = new Worker(ENTRY, {
      workerData: setup,
      ...(young > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: young } } : {}),
      ...(profDir ? { execArgv: [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {}),
    });
    const t: Thread = { worker, pending: new Map(), nodes: 0, load: 0, dead: null };
    worker.on('message', (reply: ThreadReply) => {
      const p = t.pending.get(reply.id);
      if (!p) return;
      t.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new Error(reply.error));
    });
    const die = (e: Error) => {
      t.dead ??= e;
      for (const p of t.pending.values()) p.reject(e);
      t.pending.clear();
    };
    worker.on('error', (e) => {
      // An exception nothing caught inside the thread: its nodes are gone. Say so; the run's checks then fail.
      const err = new Error(`a node thread failed: ${e.stack ?? e.message}`);
      process.stderr.write(`cpnet sim: ${err.message}\n`);
      die(err);
    });
    worker.on('exit', (code) => die(new Error(`a node thread exited (code ${code})`)));
    return t;
  });
  const ask = <T>(t: Thread, order: Order): Promise<T> => {
    if (t.dead) return Promise.reject(t.dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      t.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      t.worker.postMessage({ ...order, id });
    });
  };

  return {
    count: threads.length,
    async start(spec, { key, clock, weight = 1, thread }) {
      const t =
        thread !== undefined
          ? threads[thread % threads.length]!
          : threads.reduce((a, b) => (b.load < a.load || (b.load === a.load && b.nodes < a.nodes) ? b : a));
      t.nodes++;
      t.load += weight;
      let key_: PrivateKeyHandle | null = null;
      let running = false;
      const adopt = (r: { port: number; privateKey: string }) => {
        sim.port = r.port;
        sim.url = `http://127.0.0.1:${r.port}`;
        key_ = ed25519Profile.importPrivateKey(r.privateKey);
        running = true;
      };
      const sim: SimNode & { url: string; port: number } = {
        spec,
        url: '',
        port: 0,
        pid: null,
        get running() {
          return running && !t.dead;
        },
        privateKey: () => {
          if (!key_) throw new Error(`${spec.code} has not started yet`);
          return key_;
        },
        ...nodeClients(() => sim, clock),
        async stop(o = {}) {
          if (!running) return;
          running = false;
          await ask(t, { op: 'stop', key, abrupt: o.abrupt ?? false });
        },
        async start() {
          if (running) return;
          adopt(await ask(t, { op: 'restart', key }));
        },
      };
      try {
        adopt(await ask(t, { op: 'start', key, spec }));
      } catch (e) {
        t.nodes--;
        t.load -= weight;
        throw e;
      }
      return sim;
    },
    async skew(code, ms) {
      await Promise.all(
        threads.filter((t) => !t.dead).map((t) => ask(t, { op: 'skew', code, ms }).catch(() => undefined)),
      );
    },
    usage: () => Promise.all(threads.map((t) => ask<ThreadUsage>(t, { op: 'usage' }))),
    async heapSnapshot(dir, only) {
      if (only !== undefined && !threads[only])
        throw new RangeError(`heapSnapshot: thread ${only} does not exist (there are ${threads.length})`);
      mkdirSync(dir, { recursive: true });
      const which = only === undefined ? threads : [threads[only]!];
      return Promise.all(which.map((t) => ask<string>(t, { op: 'heapSnapshot', dir })));
    },
    async allocProfile(dir) {
      mkdirSync(dir, { recursive: true });
      return Promise.all(threads.map((t) => ask<string>(t, { op: 'allocProfile', dir })));
    },
    async stall(thread, plan) {
      const t = threads[thread];
      if (!t) throw new RangeError(`stall: thread ${thread} does not exist (there are ${threads.length})`);
      await ask(t, { op: 'stall', plan });
    },
    async close() {
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
