import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CPNET = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../apps/cli/bin/cpnet.js');

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 below Linux's ephemeral range (32768–60999), so that no server started on port 0
 * elsewhere (other test files run in parallel) can take it while a killed process is restarted on it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await tryListen(port)) return port;
  }
}

/** A node running as its own process (`cpnet node start …`). */
export interface NodeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Output so far (for failure messages). */
  output(): string;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), and wait. */
  stop(): Promise<void>;
}

/**
 * Spawns `node apps/cli/bin/cpnet.js node start <args>` (or another tree's `cli`) and waits until /healthz answers.
 * Test topologies are rehearsals: children that pass joint debugging are accepted automatically (CPNET_ACCEPTANCE).
 */
export async function spawnNode(
  args: readonly string[],
  options: { port: number; env?: Record<string, string>; cli?: string },
): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    [
      options.cli ?? CPNET,
      'node',
      'start',
      '--host',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--log-level',
      'warn',
      ...args,
    ],
    {
      env: { CPNET_ACCEPTANCE: 'automatic', ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${options.port}`;
  const end = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the node process exited with ${child.exitCode}: ${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > end) throw new Error(`the node process did not answer within 30 s: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const signal = async (s: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(s);
    await exited;
  };
  return { url, child, output: () => out, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}
