// Separate hosts on one Linux machine (issue 25): each host is a network namespace with its own address, joined to the
// others by a veth pair whose outer end sits on a bridge in the root namespace (a switch). The bridge also carries an
// address, the gateway, so this process reaches every host — and listens for them — as a machine on the same LAN.
// Needs root and `ip` (iproute2). Used by `cpnet sim run --hosts` and tests/src/hosts.test.ts.
import { execFileSync } from 'node:child_process';

/** Every name this module creates starts with it, followed by the pid of the process that made it. */
const PREFIX = 'cpnh';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** Why namespaces cannot be used here, or null when they can (root, `ip netns` and bridges work). */
export function hostsUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  // Root in a container may still lack the capability: make (and remove) a namespace, a veth pair and a bridge.
  const probe = `${PREFIX}${process.pid.toString(36)}-p`;
  const steps = [
    ['netns', 'add', probe],
    ['link', 'add', `${probe}b`, 'type', 'bridge'],
    ['link', 'add', `${probe}h`, 'type', 'veth', 'peer', 'name', `${probe}n`, 'netns', probe],
  ];
  try {
    for (const step of steps) ip(...step);
    return null;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    return `\`ip\` cannot make network namespaces, bridges or veth pairs here: ${(err.stderr || err.message).trim().split('\n')[0]}`;
  } finally {
    quietly(() => ip('link', 'delete', `${probe}h`));
    quietly(() => ip('link', 'delete', `${probe}b`));
    quietly(() => ip('netns', 'delete', probe));
  }
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
  const owner = (name: string) => parseInt(new RegExp(`^${PREFIX}([0-9a-z]+)-`).exec(name)?.[1] ?? '', 36);
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
  /** The address of this process on the LAN (the bridge): what the hosts reach it at. */
  readonly gateway: string;
  /** Adds a host (a namespace with the next address) and returns it. */
  add(name: string): Host;
  unplug(host: string): void;
  plug(host: string): void;
  /** Kills every process left in the namespaces, then removes them and the bridge. */
  close(): void;
}

let lans = 0;

/**
 * Creates a bridge with the gateway address 10.77.<subnet>.254, and one namespace per name, with addresses .1, .2, …
 * in the order given; `add` makes more later (up to 253).
 */
export function createLan(names: readonly string[] = []): Lan {
  // Interface names have at most 15 characters: cpnh + the pid in base 36 + this process's LAN count + the host's.
  const seq = lans++;
  const tag = `${PREFIX}${process.pid.toString(36)}-${seq.toString(36)}`;
  // One subnet per LAN, so that two runs (two checkouts) do not route to each other's hosts.
  const subnet = `10.77.${20 + ((process.pid + seq * 37) % 230)}`;
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
  const add = (name: string): Host => {
    if (hosts.has(name)) throw new Error(`host ${name} exists already`);
    const i = hosts.size;
    if (i >= 253) throw new Error('a LAN has at most 253 hosts');
    const host: Host = { name, ns: `${tag}-${i}`, address: `${subnet}.${i + 1}`, cable: `${tag}h${i}` };
    const inner = `${tag}n${i}`;
    ip('netns', 'add', host.ns);
    hosts.set(name, host);
    ip('link', 'add', host.cable, 'type', 'veth', 'peer', 'name', inner, 'netns', host.ns);
    ip('link', 'set', host.cable, 'master', bridge, 'up');
    ip('-n', host.ns, 'link', 'set', 'lo', 'up');
    ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', inner);
    ip('-n', host.ns, 'link', 'set', inner, 'up');
    return host;
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${subnet}.254/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (const name of names) add(name);
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
    add: (name) => {
      try {
        return add(name);
      } catch (e) {
        throw new Error(`cannot add host ${name}: ${(e as Error).message}`, { cause: e });
      }
    },
    unplug: (name) => void ip('link', 'set', cable(name), 'down'),
    plug: (name) => void ip('link', 'set', cable(name), 'up'),
    close,
  };
}
