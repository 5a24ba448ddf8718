import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { createClient, type NodeClient } from '@cpnet/client';
import { createNode, type CpnNode, type NodeConfigInput } from '@cpnet/node';
import { cryptoRandomBytes } from '@cpnet/security';
import type { SimClock } from '../clock/virtual-clock.ts';

/** How to start one node of a simulated topology. */
export interface SimNodeSpec {
  readonly code: string;
  readonly role: 'national' | 'regional' | 'industry';
  readonly name: string;
  readonly dataDir: string;
  readonly parentUrl?: string;
  /** The URL others reach this node at (its link proxy). */
  readonly publicUrl?: string;
  readonly application?: Record<string, unknown>;
  readonly autoReview: boolean;
  readonly logLevel: string;
}

/** A running (or stopped) node of the simulation. */
export interface SimNode {
  readonly spec: SimNodeSpec;
  /** The node's own listening URL (not through a proxy). */
  url: string;
  port: number;
  node: CpnNode | null;
  readonly running: boolean;
  /** Signs as the node itself. */
  self(): NodeClient;
  /** Unsigned. */
  anon(): NodeClient;
  /** Stops the node: abruptly (sockets cut, nothing drained) or gracefully. */
  stop(options?: { abrupt?: boolean }): Promise<void>;
  /** Starts it again from its database, on the same port when possible. */
  start(): Promise<void>;
}

/** Starts a node in this process; time comes from `clock` (the virtual clock, possibly skewed). */
export async function startSimNode(spec: SimNodeSpec, clock: SimClock): Promise<SimNode> {
  mkdirSync(spec.dataDir, { recursive: true });
  let applicationFile: string | undefined;
  if (spec.application) {
    applicationFile = path.join(spec.dataDir, 'application.json');
    writeFileSync(applicationFile, JSON.stringify(spec.application, null, 2));
  }
  const logger = pino({ level: spec.logLevel, name: spec.code }, pino.destination({ dest: path.join(spec.dataDir, 'node.log'), sync: false, mkdir: true }));
  const config = (port: number): NodeConfigInput => ({
    role: spec.role, code: spec.code, name: spec.name, host: '127.0.0.1', port, dataDir: spec.dataDir,
    parentUrl: spec.parentUrl, publicUrl: spec.publicUrl, applicationFile, autoReview: spec.autoReview,
    retry: { initialMs: 100, maxMs: 2000 }, pollMs: 100, linkTimeoutMs: 10_000, logLevel: 'silent',
  });
  const sim: SimNode = {
    spec,
    url: '',
    port: 0,
    node: null,
    get running() {
      return sim.node !== null;
    },
    self: () => {
      if (!sim.node) throw new Error(`${spec.code} is not running`);
      return createClient({ baseUrl: sim.url, signer: { keyid: spec.code, privateKey: sim.node.context.identity.keys.privateKey }, clock });
    },
    anon: () => createClient({ baseUrl: sim.url, clock }),
    async stop(options = {}) {
      const node = sim.node;
      if (!node) return;
      sim.node = null;
      if (options.abrupt) {
        node.server.closeAllConnections();
        for (const s of await node.io.fetchSockets()) s.disconnect(true);
      }
      await node.close();
    },
    async start() {
      if (sim.node) return;
      const node = await createNode(config(sim.port), { clock, logger, randomBytes: cryptoRandomBytes });
      try {
        sim.url = await node.listen();
      } catch (e) {
        await node.close();
        throw e;
      }
      sim.node = node;
      sim.port = (node.server.address() as AddressInfo).port;
      sim.url = `http://127.0.0.1:${sim.port}`;
    },
  };
  await sim.start();
  return sim;
}
