import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { createClient, type NodeClient } from '@cpnet/client';
import { systemClock } from '@cpnet/kernel/system';
import { createNode, type CpnNode, type NodeConfigInput } from '@cpnet/node';
import { cryptoRandomBytes, type PrivateKeyHandle } from '@cpnet/security';
import type { LoadReporter, SimClock } from '../clock/virtual-clock.ts';

/** How to start one node of a simulated topology. */
export interface SimNodeSpec {
  readonly code: string;
  readonly role: 'national' | 'regional' | 'industry';
  readonly name: string;
  readonly dataDir: string;
  /** The node's PostgreSQL database (`--database`); none: SQLite in `dataDir`. */
  readonly database?: string;
  readonly parentUrl?: string;
  /** The URL others reach this node at (its link proxy). */
  readonly publicUrl?: string;
  /** Other URLs this node is reached at (the link proxies its children use): signatures for them are its own. */
  readonly aliases?: readonly string[];
  readonly application?: Record<string, unknown>;
  readonly autoReview: boolean;
  /** How this node accepts children that passed joint debugging (验收); simulations default to automatic. */
  readonly acceptance?: 'authority' | 'automatic';
  /** A province's guide file (the node runs its review chain). */
  readonly guideFile?: string;
  readonly logLevel: string;
  /** How often gateways report (virtual ms): the node's cluster-silence thresholds are set from it. */
  readonly reportEveryMs?: number;
  /** How long the certificates it issues to children are valid (days); the node's default otherwise. */
  readonly certificateLifetimeDays?: number;
}

/**
 * Node timings for a simulation, in virtual time (the node's periodic work runs on the virtual clock): summaries and
 * ticks often enough for scenarios measured in virtual minutes, silence thresholds several report intervals long so a
 * cluster reporting every 30 s is not taken as degraded between two reports.
 */
export function simTimings(reportEveryMs = 10_000): Pick<NodeConfigInput, 'aggregation' | 'scheduling'> {
  return {
    aggregation: {
      sweepMs: 5000,
      summaryMs: 20_000,
      summaryMaxIntervalMs: 120_000,
      eventShipMs: 10_000,
      degradedAfterMs: Math.max(15_000, 2.5 * reportEveryMs),
      downAfterMs: Math.max(45_000, 5 * reportEveryMs),
    },
    scheduling: { tickMs: 5000, summaryMs: 15_000, childDownAfterMs: 60_000, meteringMs: 30_000 },
  };
}

/**
 * A running (or stopped) node of the simulation: in this process (`startSimNode`) or a child process running the
 * real CLI (`startProcessNode`). Actions and expectations see only this interface.
 */
export interface SimNode {
  readonly spec: SimNodeSpec;
  /** The node's own listening URL (not through a proxy). */
  readonly url: string;
  readonly port: number;
  readonly running: boolean;
  /** The OS process id of a process-mode node while it runs; null in process (or when stopped). */
  readonly pid: number | null;
  /** The node's own private key (to sign as the node; attacks replay and forge with it). Throws before the first start. */
  privateKey(): PrivateKeyHandle;
  /** Signs as the node itself. */
  self(): NodeClient;
  /** Unsigned. */
  anon(): NodeClient;
  /** Stops the node: abruptly (sockets cut, nothing drained) or gracefully. */
  stop(options?: { abrupt?: boolean }): Promise<void>;
  /** Starts it again from its database, on the same port when possible. */
  start(): Promise<void>;
}

/** A SimNode's clients, the same in every mode: signing as the node (refused while it is stopped) and unsigned. */
export function nodeClients(
  node: () => Pick<SimNode, 'spec' | 'url' | 'running' | 'privateKey'>,
  clock: SimClock,
): Pick<SimNode, 'self' | 'anon'> {
  return {
    self: () => {
      const sim = node();
      if (!sim.running) throw new Error(`${sim.spec.code} is not running`);
      return createClient({ baseUrl: sim.url, signer: { keyid: sim.spec.code, privateKey: sim.privateKey() }, clock });
    },
    anon: () => createClient({ baseUrl: node().url, clock }),
  };
}

/**
 * Starts a node in this process; time comes from `clock` (the virtual clock, possibly skewed). Each request the node's
 * server is answering, and on PostgreSQL each of its database round trips and units of work, counts as in flight with
 * `load`, so the clock does not run ahead of a node still answering or writing.
 */
export async function startSimNode(spec: SimNodeSpec, clock: SimClock, load?: LoadReporter): Promise<SimNode> {
  mkdirSync(spec.dataDir, { recursive: true });
  let applicationFile: string | undefined;
  if (spec.application) {
    applicationFile = path.join(spec.dataDir, 'application.json');
    writeFileSync(applicationFile, JSON.stringify(spec.application, null, 2));
  }
  const logger = pino(
    { level: spec.logLevel, name: spec.code },
    pino.destination({ dest: path.join(spec.dataDir, 'node.log'), sync: false, mkdir: true }),
  );
  const config = (port: number): NodeConfigInput => ({
    role: spec.role,
    code: spec.code,
    name: spec.name,
    host: '127.0.0.1',
    port,
    dataDir: spec.dataDir,
    ...(spec.database ? { database: spec.database } : {}),
    parentUrl: spec.parentUrl,
    publicUrl: spec.publicUrl,
    aliases: [...(spec.aliases ?? [])],
    applicationFile,
    autoReview: spec.autoReview,
    acceptance: spec.acceptance ?? 'automatic',
    ...(spec.guideFile ? { guideFile: spec.guideFile } : {}),
    // Node time (virtual) since the node takes every timer from its clock: at speed 10 these are the 0.2–2 s backoff and
    // the 300 ms review poll the simulator used in real time before (polling faster stalled large onboardings).
    retry: { initialMs: 2000, maxMs: 20_000 },
    pollMs: 3000,
    linkTimeoutMs: 10_000,
    logLevel: 'silent',
    // A killed node of the simulation is a process crash, which synchronous=NORMAL survives; an fsync per commit
    // would stall every other node sharing this thread.
    durability: 'crash',
    // Many nodes share this process's loops and libuv's one thread pool: verification off the loop would only add a
    // hand-off per signed request (issue 26, apps/node README "Hot paths").
    verifyOffLoop: false,
    // SQLite's page cache of the hot path: 2 MiB instead of 16 per node. Tens of nodes share this process, each cache
    // filling with its own database: at 28 nodes (CPNET_SCALE=0.3) peak RSS 1,124–1,132 → 1,040–1,042 MiB, CPU per job
    // the same within the noise (bench/README.md "Memory per node").
    sqliteCacheKib: 2048,
    ...simTimings(spec.reportEveryMs),
    ...(spec.certificateLifetimeDays ? { certificateLifetimeDays: spec.certificateLifetimeDays } : {}),
  });
  let node: CpnNode | null = null;
  let key: PrivateKeyHandle | null = null;
  const sim: SimNode & { url: string; port: number } = {
    spec,
    url: '',
    port: 0,
    pid: null,
    get running() {
      return node !== null;
    },
    privateKey: () => {
      if (!key) throw new Error(`${spec.code} has not started yet`);
      return key;
    },
    ...nodeClients(() => sim, clock),
    async stop(options: { abrupt?: boolean } = {}) {
      const n = node;
      if (!n) return;
      node = null;
      if (options.abrupt) {
        n.server.closeAllConnections();
        for (const s of await n.io.fetchSockets()) s.disconnect(true);
      }
      await n.close();
    },
    async start() {
      if (node) return;
      const n = await createNode(config(sim.port), {
        // Node time is the simulation's; what guards the real sockets underneath stays on the wall clock.
        clock,
        wall: systemClock,
        logger,
        randomBytes: cryptoRandomBytes,
        // On PostgreSQL the node's database round trips count as in flight too: a write a timer started keeps the
        // clock from jumping until it is done, as a request being answered does.
        ...(load ? { databaseWork: load } : {}),
      });
      if (load)
        n.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
          // socket.io's long-polls stay open by design: not work in flight.
          if (req.url?.startsWith('/socket.io')) return;
          const end = load.begin();
          res.once('close', end);
        });
      try {
        await n.listen();
      } catch (e) {
        await n.close();
        throw e;
      }
      node = n;
      key = n.context.identity.keys.privateKey;
      sim.port = (n.server.address() as AddressInfo).port;
      sim.url = `http://127.0.0.1:${sim.port}`;
    },
  };
  await sim.start();
  return sim;
}
