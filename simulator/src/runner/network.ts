import { balanceThreads } from './balance.ts';
import path from 'node:path';
import type { Faker } from '@faker-js/faker';
import { createThreadClock, type Governor, type SimClock, type VirtualClock } from '../clock/virtual-clock.ts';
import { createRng, deriveSeed } from '@cpnet/kernel';
import { seededFaker } from '../topology/fake-org.ts';
import { startLinkProxy, type LinkProxy, type LinkFaults } from '../faults/link-proxy.ts';
import type { PlannedNode, TopologyPlan } from '../topology/expand.ts';
import { makeApplication, type Break } from './application.ts';
import { createLan, removeLeftovers } from './lan.ts';
import { startProcessNode, type ProcessHost } from './process-node.ts';
import { startNodeThreads, type NodeThreads } from './node-threads.ts';
import { startSimNode, type SimNode, type SimNodeSpec } from './sim-node.ts';

/**
 * The links of a node to its parent, each through a loopback proxy so that faults can be injected:
 * `up` carries what the child sends to its parent, `down` what anyone sends to the child (its advertised URL).
 */
export interface NodeLinks {
  readonly up: LinkProxy | null;
  readonly down: LinkProxy;
}

/** Options of a simulated network. */
export interface NetworkOptions {
  /** The run's clock; with a governor (`createVirtualClock`) nodes in threads read its shared time. */
  readonly clock: VirtualClock & { readonly governor?: Governor };
  /** Seeds the link proxies' jitter and resets. */
  readonly seed?: number;
  readonly dir: string;
  /** Each node's PostgreSQL database, by node key (none: each node on SQLite in its data folder). */
  readonly database?: (key: string) => Promise<string>;
  readonly autoReview: boolean;
  /** How parents accept children that passed joint debugging (the scenario's `topology.acceptance`). */
  readonly acceptance?: 'authority' | 'automatic';
  /** A province's guide file: every node runs its review chain. */
  readonly guideFile?: string;
  readonly faker: Faker;
  readonly logLevel?: string;
  /**
   * One OS process per node running the real CLI (`cpnet node start`), instead of in this process. The children keep
   * the machine's own time, so the clock must run at speed 1 and clock skew cannot be injected.
   */
  readonly processes?: boolean;
  /**
   * Each node (a process: needs `processes`) on a separate host: a network namespace with its own address on a
   * bridge (lan.ts; root on Linux). The link proxies listen on the bridge's address, so faults work as on loopback.
   */
  readonly hosts?: boolean;
  /** How often gateways report (virtual ms); nodes set their cluster-silence thresholds from it. */
  readonly reportEveryMs?: number;
  /** How long parents' certificates for their children are valid (days); the node default otherwise. */
  readonly certificateLifetimeDays?: number;
  /** Host the nodes in this many worker threads (0: in this thread). Not with `processes`. */
  readonly threads?: number;
  /**
   * Each node's expected work (`estimateLoads` in balance.ts: the jobs it will see and the cluster reports it will
   * take): with threads, the planned nodes are spread by it (`balanceThreads`), heaviest first to the least loaded
   * thread; a node not in it (an ad-hoc applicant) goes to the least loaded thread with a weight of 1.
   */
  readonly loads?: ReadonlyMap<string, number>;
}

/** A topology of real node servers on loopback, linked through fault proxies. */
export interface Network {
  readonly plan: TopologyPlan;
  /** The run's virtual clock (what `cpnet demo` tells its visualiser: the run's start and speed). */
  readonly clock: VirtualClock;
  readonly nodes: ReadonlyMap<string, SimNode>;
  readonly links: ReadonlyMap<string, NodeLinks>;
  /** Starts a planned node (its parent must be running): it applies to its parent on start. */
  startNode(code: string, options?: { breaks?: readonly Break[]; as?: string }): Promise<SimNode>;
  /** Kills a node abruptly (sockets cut, nothing drained); its database stays. */
  kill(code: string): Promise<void>;
  /** Restarts a killed node from its database. */
  restart(code: string): Promise<void>;
  /** Sets faults on the link between `child` and its parent (both directions of connection). */
  setLinkFaults(child: string, faults: Partial<LinkFaults>): void;
  /** The node threads, when nodes run in worker threads. */
  readonly threads: NodeThreads | null;
  /** Each planned node's expected work (`NetworkOptions.loads`) and, with threads, the thread it was placed on. */
  readonly placement: ReadonlyMap<string, { readonly load: number; readonly thread: number | null }>;
  /** Removes every fault of the link. */
  healLink(child: string): void;
  /** Shifts a node's clock (a clock-skew fault); 0 removes the skew. Not in process mode (throws). */
  skew(code: string, ms: number): void;
  /** The URL others use to reach `code`. */
  urlOf(code: string): string;
  close(): Promise<void>;
}

/** Starts the national node and returns the network, ready to start the other nodes. */
export async function startNetwork(plan: TopologyPlan, options: NetworkOptions): Promise<Network> {
  if (options.processes && options.clock.speed !== 1)
    throw new Error(`process mode runs nodes on the machine's clock: the speed must be 1, not ${options.clock.speed}`);
  if (options.processes && options.threads)
    throw new Error('nodes run either in worker threads or as OS processes, not both');
  if (options.hosts && !options.processes)
    throw new Error('nodes on separate hosts run as OS processes: hosts needs processes');
  if (options.hosts) removeLeftovers();
  const lan = options.hosts ? createLan() : null;
  /** Where the link proxies listen: loopback, or this process's address on the hosts' LAN. */
  const listen = lan?.gateway ?? '127.0.0.1';
  const governor = options.clock.governor;
  if (options.threads && !governor)
    throw new Error('nodes in worker threads need a governed clock (createVirtualClock)');
  const threads = options.threads && governor ? startNodeThreads({ count: options.threads, governor }) : null;
  const rng = createRng(deriveSeed(options.seed ?? 1, 'links'));
  // Nodes in this thread read the shared time through their own slot, as a worker thread's nodes do: a calendar
  // advance moves the simulator's side (providers, fake clusters) first and the nodes after.
  const local =
    governor && !threads && !options.processes
      ? createThreadClock({
          shared: governor.shared,
          slot: governor.attach(),
          start: options.clock.now() - options.clock.elapsed(),
          speed: options.clock.speed,
        })
      : null;
  local?.wake();
  const nodeClock = local?.clock ?? options.clock;
  // Planned nodes go where the load estimate puts them; without one, each to the thread with the fewest nodes.
  const assigned = threads && options.loads ? balanceThreads(options.loads, threads.count) : null;
  const place = (code: string) => {
    const thread = assigned?.get(code);
    return thread === undefined ? { weight: 1 } : { weight: options.loads?.get(code) ?? 1, thread };
  };
  const startOne = (spec: SimNodeSpec, o: { key: string; clock: SimClock; host: ProcessHost | null }) =>
    options.processes
      ? startProcessNode(spec, o.clock, o.host ?? undefined)
      : threads
        ? threads.start(spec, { key: o.key, clock: o.clock, ...place(spec.code) })
        : startSimNode(spec, o.clock, local?.load);
  const nodes = new Map<string, SimNode>();
  const links = new Map<string, NodeLinks>();
  const skews = new Map<string, number>();
  const clockOf = (code: string): SimClock => ({
    ...nodeClock,
    now: () => nodeClock.now() + (skews.get(code) ?? 0),
  });
  const planned = new Map<string, PlannedNode>(plan.nodes.map((n) => [n.code, n]));
  const extra = new Map<string, number>();

  // A child reaches its parent through its own `up` proxy, which keeps the Host header: the parent accepts signatures
  // only for its own authorities, so each node is started with the proxies its children will use as its aliases
  // (one per planned child and a few spares for ad-hoc or duplicate applicants), taken from this pool as they start.
  const SPARE_UP_LINKS = 4;
  const upPools = new Map<string, LinkProxy[]>();
  const upAliases = new Map<string, string[]>();
  const takeUp = (child: string, parent: SimNode): LinkProxy => {
    const proxy = upPools.get(parent.spec.code)?.shift();
    if (!proxy)
      throw new Error(
        `cannot start ${child}: its parent ${parent.spec.code} has no link proxy left (${SPARE_UP_LINKS} spares beyond the plan)`,
      );
    proxy.retarget(parent.port);
    return proxy;
  };
  const launch = async (node: PlannedNode, o: { breaks: readonly Break[]; key: string }): Promise<SimNode> => {
    const host = lan?.add(o.key) ?? null;
    // Proxies in front of this node (its `down` link and its children's `up` links) forward to its address.
    const target = { host: host?.address ?? '127.0.0.1', port: 1 };
    const down = await startLinkProxy({ target, listen, random: rng.next });
    let up: LinkProxy | null = null;
    if (node.parent) {
      const parent = nodes.get(node.parent);
      if (!parent?.running) throw new Error(`cannot start ${node.code}: its parent ${node.parent} is not running`);
      up = takeUp(node.code, parent);
    }
    let aliases = upAliases.get(node.code);
    if (!aliases) {
      const spares = node.role === 'industry' ? 2 : SPARE_UP_LINKS;
      const count = plan.nodes.filter((n) => n.parent === node.code).length + spares;
      const pool = await Promise.all(
        Array.from({ length: count }, () => startLinkProxy({ target, listen, random: rng.next })),
      );
      upPools.set(node.code, pool);
      aliases = pool.map((p) => p.url);
      upAliases.set(node.code, aliases);
    }
    const sim = await startOne(
      {
        code: node.code,
        role: node.role,
        name: node.name,
        dataDir: path.join(options.dir, o.key.replaceAll('.', '_')),
        ...(options.database ? { database: await options.database(o.key) } : {}),
        parentUrl: up?.url,
        publicUrl: down.url,
        aliases,
        application:
          node.role === 'national'
            ? undefined
            : makeApplication(node, {
                // Its own sequence per applicant: the order nodes happen to start in does not change what they file.
                faker:
                  options.seed === undefined ? options.faker : seededFaker(deriveSeed(options.seed, `apply:${o.key}`)),
                breaks: o.breaks,
                now: options.clock.now(),
              }),
        autoReview: options.autoReview,
        acceptance: options.acceptance ?? 'automatic',
        ...(options.guideFile ? { guideFile: options.guideFile } : {}),
        logLevel: options.logLevel ?? 'info',
        ...(options.reportEveryMs ? { reportEveryMs: options.reportEveryMs } : {}),
        ...(options.certificateLifetimeDays ? { certificateLifetimeDays: options.certificateLifetimeDays } : {}),
      },
      { key: o.key, clock: clockOf(node.code), host },
    );
    down.retarget(sim.port);
    nodes.set(o.key, sim);
    links.set(o.key, { up, down });
    return sim;
  };

  const national = planned.get('CPN');
  if (!national) throw new Error('the plan has no national node');
  await launch(national, { breaks: [], key: 'CPN' });

  const linksOf = (code: string): NodeLinks => {
    const l = links.get(code);
    if (!l) throw new Error(`no node ${code} in the network`);
    return l;
  };
  const simOf = (code: string): SimNode => {
    const n = nodes.get(code);
    if (!n) throw new Error(`no node ${code} in the network`);
    return n;
  };

  return {
    plan,
    clock: options.clock,
    nodes,
    links,
    threads,
    placement: new Map(
      [...(options.loads ?? [])].map(([code, load]) => [code, { load, thread: assigned?.get(code) ?? null }]),
    ),
    async startNode(code, o = {}) {
      const node = planned.get(code) ?? adHoc(code);
      // A second applicant for a code already taken (a rule-breaking duplicate) runs beside the first.
      let key = o.as ?? code;
      if (nodes.has(key)) {
        const n = (extra.get(code) ?? 0) + 1;
        extra.set(code, n);
        key = `${code}#${n}`;
      }
      return launch(node, { breaks: o.breaks ?? [], key });
    },
    async kill(code) {
      await simOf(code).stop({ abrupt: true });
    },
    async restart(code) {
      const sim = simOf(code);
      await sim.start();
      linksOf(code).down.retarget(sim.port);
      // Children's up-links point at this node's own port, which may have changed.
      for (const [child, l] of links) if (parentOf(child) === code) l.up?.retarget(sim.port);
    },
    setLinkFaults(child, faults) {
      const l = linksOf(child);
      l.up?.set(faults);
      l.down.set(
        faults.partition === 'up'
          ? { ...faults, partition: 'down' }
          : faults.partition === 'down'
            ? { ...faults, partition: 'up' }
            : faults,
      );
    },
    healLink(child) {
      const l = linksOf(child);
      l.up?.heal();
      l.down.heal();
    },
    skew(code, ms) {
      if (options.processes && ms !== 0)
        throw new Error(
          "clock skew cannot be injected in process mode (each node keeps the machine's clock); run the scenario in process (default) mode",
        );
      skews.set(code, ms);
      void threads?.skew(code, ms);
    },
    urlOf: (code) => linksOf(code).down.url,
    async close() {
      const order = [...nodes.keys()].sort((a, b) => b.split('.').length - a.split('.').length);
      // Child processes stop together (each drains on SIGTERM); in-process nodes one after another, leaves first.
      if (options.processes)
        await Promise.all(
          order.map((code) =>
            nodes
              .get(code)!
              .stop()
              .catch(() => undefined),
          ),
        );
      else
        for (const code of order)
          await nodes
            .get(code)!
            .stop()
            .catch(() => undefined);
      for (const l of links.values()) {
        await l.up?.close();
        await l.down.close();
      }
      for (const pool of upPools.values()) for (const p of pool.splice(0)) await p.close();
      await threads?.close();
      lan?.close();
      local?.stop();
    },
  };
}

function parentOf(key: string): string | null {
  const code = key.split('#')[0]!;
  const dot = code.lastIndexOf('.');
  return dot < 0 ? null : code.slice(0, dot);
}

/** A node that is not in the planned topology (e.g. a rule-breaking applicant from another province). */
function adHoc(code: string): PlannedNode {
  const parts = code.split('.');
  const role = parts.length === 2 ? 'regional' : 'industry';
  return {
    code,
    role,
    name: `${code} 申报节点`,
    parent: parts.slice(0, -1).join('.'),
    province: parts[1] ?? null,
    industry: parts[2] ?? null,
  };
}
