import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIo, run } from '@cpnet/cli';
import { createClient, type NodeClient } from '@cpnet/client';
import { cryptoRandomBytes, decryptPrivateKey, ed25519Profile, generateKeyPair } from '@cpnet/security';
import { application, eventually } from './nodes.ts';
import { createLan, hostsUnavailable, removeLeftovers, type Lan } from '@cpnet/simulator';
import { startOnHost, type HostNode } from './hosts.ts';

// Issue 25: the national, a regional and an industry node on three separate hosts — network namespaces, each with its
// own address, joined by veth cables on a bridge — each running the real `cpnet node start` as its own process.
// Onboarding and joint debugging run end to end with the expectations of scenarios/onboarding.yaml (for one
// province and one industry), then the industry host's cable is unplugged and plugged back. Every wait is wall time.

const unavailable = hostsUnavailable();
if (unavailable) console.log(`hosts.test: skipped — ${unavailable}`);

const PASSPHRASE = 'separate hosts test passphrase';
let lan: Lan;
let dir: string;
const nodes = new Map<string, HostNode>();
const registered: string[] = [];

/** The node's private key, read from its database with the passphrase the test gave it. */
function keyOf(code: string) {
  const db = new Database(path.join(dir, code, 'node.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT value FROM NodeSetting WHERE key = ?').get('key.private') as { value: string };
    const key = decryptPrivateKey(row.value, PASSPHRASE);
    if (!key.ok) throw new Error(`${code}: ${key.error}`);
    return key.value;
  } finally {
    db.close();
  }
}

const anon = (code: string): NodeClient => createClient({ baseUrl: nodes.get(code)!.url, timeoutMs: 10_000 });
const self = (code: string): NodeClient =>
  createClient({ baseUrl: nodes.get(code)!.url, signer: { keyid: code, privateKey: keyOf(code) }, timeoutMs: 10_000 });

async function start(code: string, input: { host: string; args: readonly string[] }): Promise<HostNode> {
  const data = path.join(dir, code);
  // Faster retries and shorter link timeouts than a deployment's defaults, so a cut is noticed within the test.
  const config = path.join(dir, `${code}.json`);
  writeFileSync(config, JSON.stringify({ retry: { initialMs: 200, maxMs: 2000 }, pollMs: 200, linkTimeoutMs: 3000 }));
  const n = await startOnHost(lan.hosts.get(input.host)!, {
    args: ['--data', data, '--config', config, '--log-level', 'warn', ...input.args],
    env: { CPNET_KEY_PASSPHRASE: PASSPHRASE },
    logFile: path.join(dir, `${code}.log`),
  });
  nodes.set(code, n);
  return n;
}

async function lifecycle(code: string): Promise<string> {
  const r = await anon(code).node();
  return r.ok ? r.value.lifecycle : `unreachable (${r.error.message})`;
}

async function online(code: string, withinMs: number): Promise<void> {
  let last = '';
  await eventually(async () => (last = await lifecycle(code)) === 'online', withinMs).catch((e: Error) => {
    throw new Error(`${code} is ${last}, not online: ${e.message}\n${nodes.get(code)?.log().slice(-2000)}`);
  });
}

/** Applies to the national node as a fresh applicant (its own key), as a node with a broken application would. */
async function applyBroken(over: Record<string, unknown>) {
  const keys = generateKeyPair({ randomBytes: cryptoRandomBytes });
  const keyid = `CPN.${String(over.region)}`;
  const client = createClient({
    baseUrl: nodes.get('CPN')!.url,
    signer: { keyid, privateKey: keys.privateKey },
    timeoutMs: 10_000,
  });
  return client.apply({
    ...application(over),
    endpoint: `http://${lan.gateway}:9`,
    publicKey: ed25519Profile.exportPublicKey(keys.publicKey),
  } as never);
}

async function register(code: string, kind: 'SV' | 'CL', opts: { count: number; ttl?: number }): Promise<string[]> {
  const { count, ttl = 300 } = opts;
  const client = self(code);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await client.register({ kind, values: [{ index: 1, type: 'URL', data: `${code} ${kind} ${i}`, ttl }] });
    if (!r.ok) throw new Error(`register at ${code}: ${r.error.message}`);
    ids.push(r.value.id);
  }
  return ids;
}

const fixture = fileURLToPath(new URL('../../simulator/test-fixtures/hosts.yaml', import.meta.url));
const root = process.getuid?.() === 0;
// Nobody can run the checkout only if every folder above it lets others through (mktemp -d makes 0700 folders).
const othersCanEnter = (() => {
  for (let d = path.dirname(fixture); d !== path.dirname(d); d = path.dirname(d))
    if ((statSync(d).mode & 0o001) === 0) return false;
  return true;
})();
const asNobodyRuns = root && existsSync('/usr/bin/setpriv') && othersCanEnter;

// `cpnet sim run --hosts` (a speed-1 scenario: at least 56 s of wall time, mostly waiting) and the same command run as
// nobody are started with the file and run beside the three-host cases on their own LAN (another subnet, other names);
// their cases below await them. What each case asserts is unchanged.
let simRun: Promise<{ code: number; out: string; err: string; ms: number }> | undefined;
let asNobody: Promise<{ status: number | null; stderr: string }> | undefined;
beforeAll(() => {
  if (unavailable === null) {
    const io = bufferIo();
    const started = Date.now();
    simRun = run(['node', 'cpnet', 'sim', 'run', fixture, '--hosts', '--quiet'], io).then((code) => ({
      code,
      out: io.stdout.join('\n'),
      err: io.stderr.join('\n'),
      ms: Date.now() - started,
    }));
    simRun.catch(() => undefined);
  }
  // As root, the command run as nobody (setpriv drops the privileges).
  if (asNobodyRuns) {
    asNobody = runAsNobody(['sim', 'run', fixture, '--hosts']);
    asNobody.catch(() => undefined);
  }
});
afterAll(async () => {
  await Promise.allSettled([simRun, asNobody]);
}, 180_000);

/** `cpnet <args>` as user nobody (setpriv), its exit status and stderr; killed after 60 s of wall time. */
function runAsNobody(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  const cli = fileURLToPath(new URL('../../apps/cli/bin/cpnet.js', import.meta.url));
  const child = spawn(
    '/usr/bin/setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cli, ...args],
    { env: { ...process.env, HOME: tmpdir() }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

describe.skipIf(unavailable !== null)('nodes on three separate hosts (network namespaces)', () => {
  beforeAll(() => {
    const removed = removeLeftovers();
    if (removed.length) console.log(`hosts.test: removed leftovers of earlier runs: ${removed.join(', ')}`);
    lan = createLan(['national', 'regional', 'industry']);
    dir = mkdtempSync(path.join(tmpdir(), 'cpnet-hosts-'));
  });

  afterAll(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    lan?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('onboarding: the regional node joins; rule-breaking applicants are refused with their reasons', async () => {
    const national = await start('CPN', {
      host: 'national',
      args: ['--role', 'national', '--code', 'CPN', '--auto-review'],
    });
    expect(national.url).toBe(`http://${lan.hosts.get('national')!.address}:7000`);
    const capital = await applyBroken({
      region: '52',
      site: { province: '52', city: '贵阳', address: '观山湖区' },
      builder: {
        name: '资本不足公司',
        creditCode: '91510100MA6CXXXX1D',
        registeredCapitalWanYuan: 1200,
        fundingCapacityDeclared: true,
      },
    });
    expect(capital.ok ? 200 : [capital.status, capital.error.message]).toEqual([
      422,
      expect.stringContaining('capital'),
    ]);
    const licence = await applyBroken({
      region: '53',
      site: { province: '53', city: '昆明', address: '呈贡区' },
      operator: { name: '无许可运营公司', creditCode: '91510100MA6CYYYY26', telecomLicence: null },
      credit: { records: [{ date: '2026-01-10', description: '被列入严重失信主体名单', major: true }] },
    });
    expect(licence.ok ? 200 : licence.status).toBe(422);
    if (!licence.ok) {
      expect(licence.error.message).toContain('telecom-licence');
      expect(licence.error.message).toContain('credit-record');
    }
    const appFile = path.join(dir, 'CPN.51.application.json');
    writeFileSync(appFile, JSON.stringify(application()));
    await start('CPN.51', {
      host: 'regional',
      args: [
        ...['--role', 'regional', '--code', 'CPN.51', '--auto-review'],
        ...['--parent', national.url, '--trust-anchor', path.join(dir, 'CPN', 'trust-anchor.pem')],
        ...['--application', appFile],
      ],
    });
    await online('CPN.51', 60_000);
    const duplicate = await applyBroken({ region: '51' });
    expect(duplicate.ok ? 200 : [duplicate.status, duplicate.error.message]).toEqual([
      422,
      expect.stringContaining('one-regional-per-province'),
    ]);
  }, 150_000);

  it('joint debugging: the industry node joins through its regional parent and passes both ways', async () => {
    const appFile = path.join(dir, 'CPN.51.C151.application.json');
    writeFileSync(
      appFile,
      JSON.stringify(application({ role: 'industry', industry: 'C151', name: '四川白酒行业节点' })),
    );
    await start('CPN.51.C151', {
      host: 'industry',
      args: [
        ...['--role', 'industry', '--code', 'CPN.51.C151'],
        ...['--parent', nodes.get('CPN.51')!.url, '--trust-anchor', path.join(dir, 'CPN', 'trust-anchor.pem')],
        ...['--application', appFile],
      ],
    });
    await online('CPN.51.C151', 90_000);
    // Both ways with the regional parent, and with the national node too (an industry node's joint debugging).
    const failing = async (at: string, pair: { by: string; target: string }) => {
      const r = await anon(at).jointDebugResults();
      if (!r.ok) return `cannot read ${at}: ${r.error.message}`;
      const latest = r.value.items.filter((x) => x.target === pair.target && x.by === pair.by).at(-1);
      return latest ? latest.checks.filter((c) => !c.passed).map((c) => c.id) : `no result at ${at}`;
    };
    expect(await failing('CPN.51', { by: 'CPN.51', target: 'CPN.51.C151' })).toEqual([]);
    expect(await failing('CPN.51', { by: 'CPN.51.C151', target: 'CPN.51' })).toEqual([]);
    expect(await failing('CPN', { by: 'CPN.51.C151', target: 'CPN' })).toEqual([]);
  }, 150_000);

  it('identifiers registered on every host resolve from every host', async () => {
    registered.push(
      ...(await register('CPN', 'SV', { count: 2 })),
      ...(await register('CPN.51', 'SV', { count: 3 })),
      ...(await register('CPN.51.C151', 'CL', { count: 3 })),
    );
    for (const code of nodes.keys())
      for (const id of registered) {
        const r = await eventually(async () => {
          const a = await anon(code).resolve(id);
          return a.ok ? a.value : null;
        }, 20_000);
        expect(r.record.id).toBe(id);
      }
  }, 120_000);

  it('a partition: the industry host unplugged is seen down by its parent, then back once plugged in', async () => {
    // ttl 0: answers are not cached, so each resolution asks the owner again.
    const [before, during] = await register('CPN.51.C151', 'CL', { count: 2, ttl: 0 });
    const regional = anon('CPN.51');
    // The copies reach the regional node before the cut.
    await eventually(async () => {
      const r = await regional.request<{ items: { id: string }[] }>({
        method: 'GET',
        path: '/cpn/v1/identifiers?prefix=CPN.51.C151&limit=100',
      });
      return r.ok && r.value.items.some((x) => x.id === during);
    }, 20_000);
    const up = await regional.resolve(before!);
    expect(up.ok && [up.value.answeredBy, up.value.authoritative]).toEqual(['CPN.51.C151', true]);

    lan.unplug('industry');
    try {
      // The test's own view: the host is gone.
      const direct = await fetch(`${nodes.get('CPN.51.C151')!.url}/healthz`, {
        signal: AbortSignal.timeout(2000),
      }).then(
        () => 'answered',
        () => 'unreachable',
      );
      expect(direct).toBe('unreachable');
      // The parent's view: it cannot reach its child and answers from its own copy, not authoritatively.
      const cut = await regional.resolve(during!);
      expect(cut.ok && [cut.value.answeredBy, cut.value.authoritative]).toEqual(['CPN.51', false]);
      const national = await anon('CPN').resolve(during!);
      expect(national.ok && national.value.authoritative).toBe(false);
    } finally {
      lan.plug('industry');
    }
    // Back: the child answers for its own identifiers again, and still holds its place in the hierarchy.
    await eventually(async () => {
      const r = await regional.resolve(during!);
      return r.ok && r.value.answeredBy === 'CPN.51.C151' && r.value.authoritative;
    }, 30_000);
    expect(await lifecycle('CPN.51.C151')).toBe('online');
    const after = await register('CPN.51.C151', 'CL', { count: 1 });
    const fromNational = await eventually(async () => {
      const r = await anon('CPN').resolve(after[0]!);
      return r.ok ? r.value : null;
    }, 20_000);
    expect(fromNational.record.owner).toBe('CPN.51.C151');
  }, 120_000);
});

describe.skipIf(unavailable !== null)('cpnet sim run --hosts', () => {
  it('runs a scenario with every node on its own host: onboarding, joint debugging, a partition healed', async () => {
    const { code, out, err, ms } = await simRun!;
    console.log(`hosts.test: sim run --hosts took ${ms} ms (wall, beside the three-host cases)`);
    expect(code, out + err).toBe(0);
    expect(out).toContain('8 passed, 0 failed');
    // The namespaces and the bridge are gone with the run.
    expect(removeLeftovers()).toEqual([]);
  }, 180_000);
});

describe('cpnet sim run --hosts where namespaces cannot be made', () => {
  it.skipIf(root && !asNobodyRuns)(
    'exits 3 saying why, before starting anything',
    async () => {
      if (root) {
        const r = await asNobody!;
        expect([r.status, r.stderr.trim()]).toEqual([3, 'cpnet: --hosts: creating network namespaces needs root']);
      } else {
        const io = bufferIo();
        expect(await run(['node', 'cpnet', 'sim', 'run', fixture, '--hosts'], io)).toBe(3);
        expect(io.stderr.join('')).toMatch(/^cpnet: --hosts: /);
      }
    },
    60_000,
  );
});
