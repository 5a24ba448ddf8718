import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { cryptoRandomBytes, decryptPrivateKey, type PrivateKeyHandle } from '@cpnet/security';
import type { SimClock } from '../clock/virtual-clock.ts';
import { nodeClients, simTimings, type SimNode, type SimNodeSpec } from './sim-node.ts';
import { systemClock } from '@cpnet/kernel/system';

/** The cpnet command of this repository (run with the same Node as the simulator); CPNET_SIM_CLI overrides it. */
const CLI_PATH = process.env.CPNET_SIM_CLI ?? fileURLToPath(new URL('../../../apps/cli/bin/cpnet.js', import.meta.url));
/** Loaded into every child with --import: the child exits when the simulator's end of its stdin closes (no orphans). */
const WATCHDOG = fileURLToPath(new URL('./child-watchdog.mjs', import.meta.url));
/** How long a child may take to answer /healthz (tsx compiles the CLI on the fly: a few seconds on a busy machine). */
const READY_TIMEOUT_MS = 60_000;

/** Every child process any network of this process started and that has not exited yet. */
const live = new Set<ChildProcess>();
let guarded = false;

/** Kills every child still alive when this process exits, whatever the reason (a failed run, an uncaught error). */
function guardExit(): void {
  if (guarded) return;
  guarded = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** A free TCP port on loopback (released at once: the child binds it a moment later). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function tail(file: string, chars = 1500): string {
  try {
    const t = readFileSync(file, 'utf8');
    return t.slice(-chars).trim();
  } catch {
    return '';
  }
}

/** A separate host (lan.ts) to run a node on: the child enters its network namespace and listens on its address. */
export interface ProcessHost {
  readonly ns: string;
  readonly address: string;
}

/** Every node on a separate host listens on this port of its own address. */
const HOST_PORT = 7000;

/**
 * Starts a node as a child process running the real CLI (`cpnet node start …`) with its own database in
 * `spec.dataDir`. Its output goes to `node.log` there. `stop({ abrupt: true })` is a real SIGKILL; `start()` respawns
 * it on the same port from its database. Time is the machine's own clock (process mode runs at speed 1); `clock` only
 * signs the runner's requests.
 */
export async function startProcessNode(spec: SimNodeSpec, clock: SimClock, host?: ProcessHost): Promise<SimNode> {
  guardExit();
  mkdirSync(spec.dataDir, { recursive: true });
  const dataDir = path.resolve(spec.dataDir);
  const logFile = path.join(dataDir, 'node.log');
  const configFile = path.join(dataDir, 'sim-config.json');
  const dbFile = path.join(dataDir, 'node.db');
  const address = host?.address ?? '127.0.0.1';
  let applicationFile: string | undefined;
  if (spec.application) {
    applicationFile = path.join(dataDir, 'application.json');
    writeFileSync(applicationFile, JSON.stringify(spec.application, null, 2));
  }
  // What flags cannot say: the simulator's faster retry and poll timings (as in process mode).
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        name: spec.name,
        retry: { initialMs: 100, maxMs: 2000 },
        pollMs: 100,
        linkTimeoutMs: 10_000,
        aliases: spec.aliases ?? [],
        ...simTimings(spec.reportEveryMs),
        ...(spec.certificateLifetimeDays ? { certificateLifetimeDays: spec.certificateLifetimeDays } : {}),
      },
      null,
      2,
    ),
  );
  // The runner chooses the passphrase of the key at rest, so that it can read the node's key from its database.
  const passphrase = Buffer.from(cryptoRandomBytes(24)).toString('base64url');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('CPNET_')) env[k] = v;
  env.CPNET_KEY_PASSPHRASE = passphrase;

  let child: ChildProcess | null = null;
  let key: PrivateKeyHandle | null = null;
  let exited: Promise<void> = Promise.resolve();

  const spawnAt = (port: number): ChildProcess => {
    const args = [
      '--import',
      WATCHDOG,
      CLI_PATH,
      'node',
      'start',
      '--config',
      configFile,
      '--role',
      spec.role,
      '--code',
      spec.code,
      '--host',
      address,
      '--port',
      String(port),
      '--data',
      dataDir,
      ...(spec.database ? ['--database', spec.database] : []),
      ...(spec.parentUrl ? ['--parent', spec.parentUrl] : []),
      ...(spec.publicUrl ? ['--public-url', spec.publicUrl] : []),
      ...(applicationFile ? ['--application', applicationFile] : []),
      ...(spec.autoReview ? ['--auto-review'] : []),
      // `cpnet node start` defaults to authority acceptance; a simulation says which it runs.
      '--acceptance',
      spec.acceptance ?? 'automatic',
      '--log-level',
      spec.logLevel === 'silent' ? 'silent' : 'warn',
    ];
    const out = openSync(logFile, 'a');
    try {
      // `ip netns exec` enters the host's namespace and execs Node there: the child's pid is the node's own.
      const c = host
        ? spawn('ip', ['netns', 'exec', host.ns, process.execPath, ...args], { env, stdio: ['pipe', out, out] })
        : spawn(process.execPath, args, { env, stdio: ['pipe', out, out] });
      live.add(c);
      c.once('exit', () => live.delete(c));
      return c;
    } finally {
      closeSync(out);
    }
  };

  const waitReady = async (c: ChildProcess, port: number): Promise<void> => {
    let exit: { code: number | null; signal: string | null } | null = null;
    c.once('exit', (code, signal) => {
      exit = { code, signal };
    });
    // Wall time: a real child process starting (process mode runs at speed 1 on the machine's clock).
    const end = systemClock.now() + READY_TIMEOUT_MS;
    while (systemClock.now() < end) {
      if (exit) {
        const e = exit as { code: number | null; signal: string | null };
        throw new Error(
          `${spec.code} exited before it was ready (${e.signal ?? `exit ${e.code}`}): ${tail(logFile) || 'no output'}`,
        );
      }
      // eslint-disable-next-line no-restricted-properties -- wall time: a real HTTP probe of a child process
      const ok = await fetch(`http://${address}:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await systemClock.sleep(100);
    }
    c.kill('SIGKILL');
    throw new Error(`${spec.code} did not answer /healthz within ${READY_TIMEOUT_MS / 1000} s: ${tail(logFile)}`);
  };

  /** The node's private key, decrypted from NodeSetting `key.private` with the passphrase the runner chose. */
  const readKey = (): PrivateKeyHandle => {
    if (!existsSync(dbFile)) throw new Error(`${spec.code}: no database at ${dbFile}`);
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT value FROM NodeSetting WHERE key = ?').get('key.private') as
        { value: string } | undefined;
      if (!row) throw new Error(`${spec.code}: its database holds no private key`);
      const r = decryptPrivateKey(row.value, passphrase);
      if (!r.ok) throw new Error(`${spec.code}: its private key cannot be decrypted: ${r.error}`);
      return r.value;
    } finally {
      db.close();
    }
  };

  const sim: SimNode & { url: string; port: number } = {
    spec,
    url: '',
    port: 0,
    get pid() {
      return child?.pid ?? null;
    },
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    privateKey: () => {
      key ??= readKey();
      return key;
    },
    ...nodeClients(() => sim, clock),
    async stop(options: { abrupt?: boolean } = {}) {
      const c = child;
      if (!c) return;
      child = null;
      if (c.exitCode === null && c.signalCode === null) {
        if (options.abrupt) {
          c.kill('SIGKILL');
        } else {
          c.kill('SIGTERM');
          const force = systemClock.setTimeout(() => c.kill('SIGKILL'), 5000);
          exited.finally(force).catch(() => undefined);
        }
      }
      await exited;
    },
    async start() {
      if (sim.running) return;
      child = null;
      // The first start picks a free port (retrying if another process took it meanwhile); restarts reuse it.
      for (let attempt = 0; ; attempt++) {
        const port = sim.port || (host ? HOST_PORT : await freePort());
        const c = spawnAt(port);
        exited = new Promise((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) resolve();
          else c.once('exit', () => resolve());
        });
        try {
          await waitReady(c, port);
        } catch (e) {
          c.kill('SIGKILL');
          await exited;
          if (sim.port === 0 && attempt < 2 && /exit 3/.test((e as Error).message)) continue;
          throw e;
        }
        child = c;
        sim.port = port;
        sim.url = `http://${address}:${port}`;
        break;
      }
      key ??= readKey();
    },
  };
  await sim.start();
  return sim;
}

/** Kills every child process still alive (the CLI calls it on SIGINT before it exits). */
export function killAllProcessNodes(): void {
  for (const c of live) c.kill('SIGKILL');
}
