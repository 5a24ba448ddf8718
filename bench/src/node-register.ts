// `register_per_s` with the node in a process of its own: a national node in a child process (bench/src/node-process.ts),
// 16 concurrent clients in this process signing identifier registrations as the node. A node's users are elsewhere,
// so the figure is what the node alone sustains; its CPU per registration is the node's process CPU only. The
// one-process set-up (clients and node sharing one event loop, `register_per_s_one_process`) stays in bench/node.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@cpnet/client';
import type { Figures } from '../lib.ts';
import { spawnNode } from './node-process.ts';

/**
 * The load before the measured window (wall time). A fresh node's first seconds run code not yet optimised: with
 * 500 ms of warm-up and a 2 s window the figure of one tree moved between 1,329 and 1,820/s from run to run (issue 26,
 * 2026-12-06); after 3 s it measures what the node sustains (1,960–2,040 in the same hour).
 */
const WARM_UP_MS = 3000;

/** Signed registrations by `concurrency` clients in this process against a node in its own process, for `ms` (4 s). */
export async function registerElsewhere(f: Figures, opts: { ms?: number; concurrency?: number } = {}): Promise<void> {
  const { ms = 4000, concurrency = 16 } = opts;
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-bench-reg-'));
  const node = await spawnNode({ role: 'national', code: 'CPN', port: 0, dataDir: dir });
  try {
    const c = createClient({ baseUrl: node.url, signer: { keyid: 'CPN', privateKey: node.privateKey } });
    const once = async () => {
      const r = await c.register({ kind: 'JB', values: [{ index: 1, type: 'T', data: { n: 1 } }] });
      if (!r.ok) throw new Error(r.error.message);
    };
    // Warm-up: the node's code paths compiled and its connections open before the measured window.
    await run(once, WARM_UP_MS, concurrency);
    const nodeCpu0 = node.cpuMs();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const n = await run(once, ms, concurrency);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    f.register_per_s = n / (wall / 1000);
    f.register_cpu_ms_per_op = (node.cpuMs() - nodeCpu0) / n;
    f.register_client_cpu_ms_per_op = (cpu.user + cpu.system) / 1000 / n;
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `concurrency` loops calling `fn` until `ms` of wall time have passed; how many calls finished. */
export async function run(fn: () => Promise<void>, ms: number, concurrency: number): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        n++;
      }
    }),
  );
  return n;
}
