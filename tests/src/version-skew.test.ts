import { execFileSync, execSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@cpnet/protocol';
import { applicationFile, cleanup, eventually, tempDir } from './nodes.ts';
import { freePort, spawnNode, type NodeProcess } from './process.ts';

// Issue 18, version skew: a node of the previous protocol release talks to HEAD in both directions (onboarding, the
// review, the grant and joint debugging until the child is online, then the child's scheduling summary, its heartbeat,
// on the 1.0 route: issue 21's one summary upward is used only between nodes that both advertise it). The release is
// built from git history into a temporary folder that shares this checkout's third-party node_modules (its own
// workspace packages are its own).

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RELEASES = JSON.parse(readFileSync(path.join(ROOT, 'packages/protocol/releases.json'), 'utf8')) as {
  releases: { version: string; tag: string; commit: string }[];
};
const release = RELEASES.releases.at(-1)!;

/** Why the release cannot be built here (no git history in this checkout), or null. */
function unavailable(): string | null {
  try {
    execFileSync('git', ['-C', ROOT, 'cat-file', '-e', `${release.commit}^{commit}`], { stdio: 'ignore' });
    return null;
  } catch {
    return `commit ${release.commit} of protocol ${release.version} is not in this checkout's git history`;
  }
}
const missing = unavailable();
if (missing) console.warn(`version-skew test skipped: ${missing} (a full git clone runs it)`);

let old: string;
const running: NodeProcess[] = [];

/** The release's tree with node_modules: third-party packages linked from HEAD's, workspace packages its own. */
function buildRelease(): string {
  const dir = mkdtempSync(path.join(tmpdir(), `cpnet-protocol-${release.version}-`));
  execSync(`git -C "${ROOT}" archive ${release.commit} | tar -x -C "${dir}"`, { stdio: 'pipe' });
  const modules = path.join(dir, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name === '@cpnet') continue;
    symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name));
  }
  mkdirSync(path.join(modules, '@cpnet'));
  // npm links workspaces relatively (../../packages/protocol): the same link here points into the release's tree.
  for (const name of readdirSync(path.join(ROOT, 'node_modules/@cpnet'))) {
    const link = readlinkSync(path.join(ROOT, 'node_modules/@cpnet', name));
    if (existsSync(path.resolve(modules, '@cpnet', link))) symlinkSync(link, path.join(modules, '@cpnet', name));
  }
  // The release's own Prisma client, from its own schema.
  execSync('npx prisma generate', { cwd: path.join(dir, 'apps/node'), stdio: 'pipe' });
  return dir;
}

const cliOf = (tree: 'old' | 'head') => (tree === 'old' ? path.join(old, 'apps/cli/bin/cpnet.js') : undefined);

async function start(tree: 'old' | 'head', args: string[]): Promise<NodeProcess> {
  const p = await spawnNode(args, { port: await freePort(), cli: cliOf(tree) });
  running.push(p);
  return p;
}

async function nodeInfo(url: string): Promise<{ lifecycle: string; protocol?: string }> {
  const r = await fetch(`${url}/cpn/v1/node`, { headers: { 'cpn-protocol': PROTOCOL_VERSION } });
  return { ...((await r.json()) as { lifecycle: string }), protocol: r.headers.get('cpn-protocol') ?? undefined };
}

/** A national node of one tree and a regional child of the other: the child must come online. */
async function pair(parentTree: 'old' | 'head', childTree: 'old' | 'head') {
  const nd = tempDir();
  const national = await start(parentTree, ['--role', 'national', '--code', 'CPN', '--data', nd, '--auto-review']);
  const cd = tempDir();
  const child = await start(childTree, [
    '--role',
    'regional',
    '--code',
    'CPN.51',
    '--data',
    cd,
    '--parent',
    national.url,
    '--trust-anchor',
    path.join(nd, 'trust-anchor.pem'),
    '--application',
    applicationFile(cd, { region: '51', name: '四川区域节点' }),
  ]);
  try {
    await eventually(async () => (await nodeInfo(child.url)).lifecycle === 'online', 90_000);
  } catch (e) {
    throw new Error(
      `${(e as Error).message}\n--- parent (${parentTree}):\n${national.output()}\n--- child (${childTree}):\n${child.output()}`,
      { cause: e },
    );
  }
  expect((await nodeInfo(national.url)).lifecycle).toBe('online');
  // The heartbeat crosses the pair: with a release node on either side nobody advertised `one-summary` to the other,
  // so the child sends its scheduling summary on its own, and the parent answers it.
  await eventually(async () => (await answered(national.url, '/cpn/v1/scheduling/summaries')) > 0, 20_000);
  for (const p of [child, national]) await p.stop();
}

/** How many requests to `route` the node at `url` answered 200, from its /metrics. */
async function answered(url: string, route: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^cpn_http_requests_total\{([^}]*)\} (\d+)$/gm))
    if (m[1]!.includes(`route="${route}"`) && m[1]!.includes('status="200"')) total += Number(m[2]);
  return total;
}

describe.skipIf(missing !== null)(
  `protocol ${release.version} (the previous release) against HEAD (${PROTOCOL_VERSION})`,
  () => {
    beforeAll(() => {
      old = buildRelease();
    }, 180_000);

    afterAll(async () => {
      for (const p of running) await p.stop().catch(() => undefined);
      if (old) rmSync(old, { recursive: true, force: true });
      cleanup();
    });

    it('a release child onboards under a HEAD national node, through joint debugging to online', async () => {
      await pair('head', 'old');
    }, 180_000);

    it('a HEAD child onboards under a release national node, through joint debugging to online', async () => {
      await pair('old', 'head');
    }, 180_000);
  },
);
