// A node in a process of its own, for benchmarks whose clients must not share the node's event loop and CPU (a
// node's users are elsewhere): `spawnNode(config)` starts this file as a child (`node --import tsx`), which creates
// the node from `config`, listens, and prints one JSON line with its URL and its Ed25519 private key (PEM, so the
// parent can sign as the node); the node closes when the parent ends the child's stdin.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import type { createNode as CreateNode, NodeConfigInput } from '@cpnet/node';
import { cryptoRandomBytes, ed25519Profile, type PrivateKeyHandle } from '@cpnet/security';

/** A node running in a child process. */
export type NodeProcess = {
  url: string;
  pid: number;
  /** The node's private key, imported in this process (to sign as the node). */
  privateKey: PrivateKeyHandle;
  /** CPU time (user + system) the child has used so far, ms; read from /proc (Linux), 10 ms resolution. */
  cpuMs: () => number;
  close: () => Promise<void>;
};

const CHILD_ENV = 'CPNET_BENCH_NODE_CONFIG';

const TREE_ENV = 'CPNET_BENCH_NODE_TREE';

/**
 * Starts a node from `config` (JSON-serialisable, as a config file would hold it) in a child process; `tree` (a
 * source tree's root, e.g. another commit's copy for an A/B run) supplies the node's code instead of this one's.
 */
export async function spawnNode(
  config: NodeConfigInput,
  opts: { nodeArgs?: string[]; tree?: string } = {},
): Promise<NodeProcess> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', import.meta.filename], {
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(config), ...(opts.tree ? { [TREE_ENV]: opts.tree } : {}) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // The child's first line, or its exit (it failed to start: its error is on stderr, inherited).
  const line = await Promise.race([
    once(child.stdout, 'data').then(([chunk]) => chunk as Buffer),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the node process of ${config.code ?? 'a node'} exited (${String(code)}) before it listened`);
    }),
  ]);
  const { url, key } = JSON.parse(line.toString()) as { url: string; key: string };
  const pid = child.pid!;
  return {
    url,
    pid,
    privateKey: ed25519Profile.importPrivateKey(key),
    cpuMs: () => processCpuMs(pid),
    close: async () => {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
}

/** utime + stime of a process from /proc/<pid>/stat, in ms (USER_HZ is 100 on Linux). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10;
}

if (process.env[CHILD_ENV]) {
  const config = JSON.parse(process.env[CHILD_ENV]) as NodeConfigInput;
  const tree = process.env[TREE_ENV];
  const createNode = (
    (await import(tree ? path.resolve(tree, 'apps/node/src/index.ts') : '@cpnet/node')) as {
      createNode: typeof CreateNode;
    }
  ).createNode;
  const node = await createNode(
    { logLevel: 'silent', ...config },
    { clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes },
  );
  const url = await node.listen();
  const key = ed25519Profile.exportPrivateKey(node.context.identity.keys.privateKey);
  process.stdout.write(`${JSON.stringify({ url, key })}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  await node.close();
  process.exit(0);
}
