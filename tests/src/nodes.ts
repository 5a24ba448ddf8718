import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { afterAll } from 'vitest';
import { startTestPostgres, type TestPostgres } from '@cpnet/node/testing/postgres';
import type { Clock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { createClient, type NodeClient } from '@cpnet/client';
import { cryptoRandomBytes } from '@cpnet/security';
import { createNode, type CpnNode, type NodeConfigInput } from '@cpnet/node';
import { watchResponses } from './contract/responses.ts';

/** A running node in a test, with a client that signs as the node itself. */
export interface TestNode {
  readonly node: CpnNode;
  readonly url: string;
  readonly dir: string;
  /** Signs as the node itself (its own key). */
  readonly self: NodeClient;
  /** Unsigned. */
  readonly anon: NodeClient;
  stop(): Promise<void>;
}

const dirs: string[] = [];

/** A fresh temporary data folder, removed by `cleanup`. */
export function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'cpnet-it-'));
  dirs.push(d);
  return d;
}

/**
 * CPNET_TEST_DATABASE=postgres puts every test node that names no `database` on PostgreSQL: one server per test file
 * (embedded, or CPNET_TEST_DATABASE_URL), a fresh migrated database per data folder — a node restarted on the same
 * folder finds its database again. Anything else (the default): SQLite in the data folder.
 */
export function testDatabase(): 'sqlite' | 'postgres' {
  return process.env.CPNET_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
}
let postgres: Promise<TestPostgres> | undefined;
const databases = new Map<string, string>();
// Registered when this module loads, so it runs after the test file's own afterAll hooks (hooks run as a stack).
afterAll(async () => {
  const server = postgres;
  postgres = undefined;
  databases.clear();
  if (server) await (await server).stop();
});

/** The PostgreSQL database of a data folder under CPNET_TEST_DATABASE=postgres (made on first use). */
async function databaseFor(dir: string): Promise<string> {
  let url = databases.get(dir);
  if (!url) {
    postgres ??= startTestPostgres();
    url = await (await postgres).migratedDatabase();
    databases.set(dir, url);
  }
  return url;
}

/**
 * Starts a real node on 127.0.0.1, port 0 unless given (on PostgreSQL under CPNET_TEST_DATABASE=postgres). Its log is
 * silent (or at CPNET_TEST_LOG's level) unless a `logger` is given.
 */
export async function startTestNode(
  config: Omit<NodeConfigInput, 'dataDir' | 'port'> & {
    dataDir?: string;
    port?: number;
    clock?: Clock;
    logger?: Logger;
  },
): Promise<TestNode> {
  const { clock, logger, ...rest } = config;
  const dir = rest.dataDir ?? tempDir();
  const database = rest.database ?? (testDatabase() === 'postgres' ? await databaseFor(path.resolve(dir)) : undefined);
  const node = await createNode(
    {
      port: 0,
      retry: { initialMs: 50, maxMs: 400 },
      pollMs: 50,
      linkTimeoutMs: 1500,
      ...rest,
      dataDir: dir,
      ...(database ? { database } : {}),
    },
    {
      clock: clock ?? systemClock,
      logger: logger ?? pino({ level: process.env.CPNET_TEST_LOG ?? 'silent' }),
      randomBytes: cryptoRandomBytes,
    },
  );
  // Every answer is checked against docs/openapi.json; a violation fails the running test (contract/setup.ts).
  watchResponses(node.server);
  const url = await node.listen();
  const code = node.context.config.code;
  return {
    node,
    url,
    dir,
    self: createClient({ baseUrl: url, signer: { keyid: code, privateKey: node.context.identity.keys.privateKey } }),
    anon: createClient({ baseUrl: url }),
    stop: () => node.close(),
  };
}

/** Removes every temporary folder. */
export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Valid credit codes (GB 32100) for applications. */
const CODES = {
  builder: '91510100MA6CXXXX1D',
  operator: '91510100MA6CYYYY26',
  institution: '12510000MB0P12345R',
  other: '91440300MA5FAAAA39',
} as const;

/** A good application (the node fills endpoint and publicKey); override any part. */
export function application(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    role: 'regional',
    region: '51',
    industry: null,
    name: '四川区域节点',
    builder: {
      name: '四川算力建设有限公司',
      creditCode: CODES.builder,
      registeredCapitalWanYuan: 20000,
      fundingCapacityDeclared: true,
    },
    operator: { name: '四川算力运营有限公司', creditCode: CODES.operator, telecomLicence: 'B1-20260001' },
    consortium: null,
    credit: { records: [] },
    site: { province: '51', city: '成都', address: '天府新区' },
    contact: { name: '张三', phone: '028-00000000', email: 'ops@example.cn' },
    ...over,
  };
}

/** Writes an application file and returns its path. */
export function applicationFile(dir: string, over: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'application.json');
  writeFileSync(file, JSON.stringify(application(over)));
  return file;
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

/** The lifecycle a node reports. */
export async function lifecycleOf(n: TestNode): Promise<string> {
  const r = await n.anon.node();
  return r.ok ? r.value.lifecycle : 'unreachable';
}
