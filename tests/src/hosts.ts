import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Host } from '@cpnet/simulator';

// A node process on one of the hosts of a LAN (@cpnet/simulator's createLan): `cpnet node start` run inside the host's
// network namespace, listening on the host's own address.

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../apps/cli/bin/cpnet.js');

/** A node running as a process on one host. */
export interface HostNode {
  readonly host: Host;
  readonly url: string;
  readonly child: ChildProcess;
  /** The node's log so far. */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Starts `cpnet node start <args>` inside a host's namespace on its own address, port 7000, logging to `logFile`. */
export async function startOnHost(
  host: Host,
  options: { args: readonly string[]; env: Record<string, string>; logFile: string },
): Promise<HostNode> {
  const out = openSync(options.logFile, 'a');
  const port = 7000;
  let child: ChildProcess;
  try {
    // `ip netns exec` enters the namespace and execs the command: the child's pid is the node's own.
    child = spawn(
      'ip',
      [
        'netns',
        'exec',
        host.ns,
        process.execPath,
        CLI,
        'node',
        'start',
        '--host',
        host.address,
        '--port',
        String(port),
      ].concat(options.args),
      { env: { CPNET_ACCEPTANCE: 'automatic', ...process.env, ...options.env }, stdio: ['ignore', out, out] },
    );
  } finally {
    closeSync(out);
  }
  const url = `http://${host.address}:${port}`;
  const log = () => {
    try {
      return readFileSync(options.logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${host.name}: the node exited with ${child.exitCode}: ${log()}`);
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`${host.name}: no /healthz at ${url} within 60 s: ${log()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    host,
    url,
    child,
    log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(force);
      }
    },
  };
}
