import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Separate hosts on one Linux machine: each "host" is a network namespace with its own address, joined to the others
// by a veth pair whose outer end sits on a bridge in the root namespace (a switch). The bridge also carries an address,
// so the test process reaches every host as a machine on the same LAN would. Root only.

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../apps/cli/bin/cpnet.js');
/** Every name this harness creates starts with it, followed by the pid of the process that made it. */
const PREFIX = 'cpnh';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** Why namespaces cannot be used here, or null when they can (root, `ip netns` and bridges work). */
export function hostsUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (run the tests as root on Linux)';
  try {
    ip('netns', 'list');
  } catch (e) {
    return `\`ip netns\` does not work here: ${(e as Error).message.split('\n')[0]}`;
  }
  return null;
}

/** Runs a clean-up step that may find its object already gone. */
function quietly(step: () => unknown): void {
  try {
    step();
  } catch {
    /* already gone */
  }
}

/** SIGKILLs every process in a namespace. */
function killIn(ns: string): void {
  for (const pid of ip('netns', 'pids', ns).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what earlier runs left behind (a run killed before its afterAll): namespaces, with every process still in
 * them, and links whose name carries the pid of a process that no longer exists. A run in progress is left alone.
 */
export function removeLeftovers(): string[] {
  const removed: string[] = [];
  const owner = (name: string) => Number(new RegExp(`^${PREFIX}(\\d+)`).exec(name)?.[1] ?? NaN);
  for (const line of ip('netns', 'list').split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    if (!ns.startsWith(PREFIX) || alive(owner(ns))) continue;
    killIn(ns);
    ip('netns', 'delete', ns);
    removed.push(ns);
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '';
    if (!name.startsWith(PREFIX) || alive(owner(name))) continue;
    quietly(() => ip('link', 'delete', name));
    removed.push(name);
  }
  return removed;
}

/** One host: a namespace, its address, and the outer end of its cable (on the bridge). */
export interface Host {
  readonly name: string;
  readonly ns: string;
  readonly address: string;
  /** The veth end in the root namespace: `ip link set <cable> down` unplugs the host. */
  readonly cable: string;
}

/** A LAN of hosts. */
export interface Lan {
  readonly hosts: ReadonlyMap<string, Host>;
  /** The address of the test process on the LAN (the bridge). */
  readonly gateway: string;
  unplug(host: string): void;
  plug(host: string): void;
  /** Kills every process left in the namespaces, then removes them and the bridge. */
  close(): void;
}

/** Creates a bridge and one namespace per name, with addresses 10.77.<subnet>.1, .2, … in the order given. */
export function createLan(names: readonly string[]): Lan {
  const tag = `${PREFIX}${process.pid}`;
  // One subnet per run, so that two runs (two checkouts) never route to each other's hosts.
  const subnet = `10.77.${(process.pid % 200) + 20}`;
  const bridge = `${tag}b`;
  const hosts = new Map<string, Host>();
  const close = () => {
    for (const h of hosts.values()) {
      // The cable first: a namespace (and the veth end in it) is freed only once its last process has gone.
      quietly(() => ip('link', 'delete', h.cable));
      quietly(() => killIn(h.ns));
      quietly(() => ip('netns', 'delete', h.ns));
    }
    quietly(() => ip('link', 'delete', bridge));
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${subnet}.254/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    names.forEach((name, i) => {
      const host: Host = { name, ns: `${tag}-${name}`, address: `${subnet}.${i + 1}`, cable: `${tag}h${i}` };
      const inner = `${tag}n${i}`;
      ip('netns', 'add', host.ns);
      hosts.set(name, host);
      ip('link', 'add', host.cable, 'type', 'veth', 'peer', 'name', inner, 'netns', host.ns);
      ip('link', 'set', host.cable, 'master', bridge, 'up');
      ip('-n', host.ns, 'link', 'set', 'lo', 'up');
      ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', inner);
      ip('-n', host.ns, 'link', 'set', inner, 'up');
    });
  } catch (e) {
    close();
    throw e;
  }
  const cable = (name: string) => {
    const h = hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h.cable;
  };
  return {
    hosts,
    gateway: `${subnet}.254`,
    unplug: (name) => void ip('link', 'set', cable(name), 'down'),
    plug: (name) => void ip('link', 'set', cable(name), 'up'),
    close,
  };
}

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
      { env: { ...process.env, ...options.env }, stdio: ['ignore', out, out] },
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
