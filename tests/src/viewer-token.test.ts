import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { bufferIo, run, runViz } from '@cpnet/cli';
import type { Clock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { NAMESPACES, SOCKET_EVENTS } from '@cpnet/protocol';
import { cleanup, startTestNode, tempDir, type TestNode } from './nodes.ts';

// Issue 19: tokens for as long as the page is open. The node's clock is moved past a short token's lifetime: the old
// token is refused plainly, the visualiser's renewal route (backed by an operator's credential) hands out a fresh one,
// and a page connecting after the first lifetime still gets its snapshot. `cpnet viz token` mints one from the CLI.

let national: TestNode;
let offsetMs = 0;
// The node's clock: the machine's, moved on by `offsetMs` (its timers stay the machine's).
const clock: Clock = { ...systemClock, now: () => systemClock.now() + offsetMs };

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', clock });
  for (const a of <const>[
    { id: 'ops', name: '运维', role: 'operator', password: 'operator-pass-1' },
    { id: 'wall', name: '大屏', role: 'viewer', password: 'viewer-pass-1' },
    { id: 'tenant-a', name: '租户', role: 'tenant', password: 'tenant-pass-1' },
  ]) {
    const r = await national.self.createAccount(a);
    if (!r.ok) throw new Error(r.error.message);
  }
}, 30_000);

afterAll(async () => {
  await national.stop();
  cleanup();
});

/** The first message on /monitor with `token`: the snapshot, or the refusal's message. */
function connectWith(token: string): Promise<{ snapshot: boolean } | { refused: string }> {
  return new Promise((resolve) => {
    const s = io(`${national.url}${NAMESPACES.monitor}`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    s.once(SOCKET_EVENTS.snapshot, () => (s.close(), resolve({ snapshot: true })));
    s.once('connect_error', (e: Error) => (s.close(), resolve({ refused: e.message })));
  });
}

describe('viewer tokens for as long as the page is open', () => {
  it('mints a viewer token with an operator credential from the CLI; refuses a wrong password or a non-viewer', async () => {
    const dir = tempDir();
    const pw = path.join(dir, 'pw');
    writeFileSync(pw, 'operator-pass-1\n');
    const out = bufferIo();
    const base = ['node', 'cpnet', 'viz', 'token', '--node', national.url, '--operator', 'ops', '--password-file', pw];
    expect(await run([...base, '--viewer', 'wall', '--ttl', '60'], out)).toBe(0);
    expect(await connectWith(out.stdout[0]!)).toEqual({ snapshot: true });
    const wrong = bufferIo();
    writeFileSync(pw, 'nope');
    expect(await run([...base, '--viewer', 'wall'], wrong)).toBe(1);
    expect(wrong.stderr.join('\n')).toMatch(/unknown account or wrong password/);
    writeFileSync(pw, 'operator-pass-1');
    const tenant = bufferIo();
    expect(await run([...base, '--viewer', 'tenant-a'], tenant)).toBe(1);
    expect(tenant.stderr.join('\n')).toMatch(/tenant account; only viewer tokens/);
    const missing = bufferIo();
    expect(await run(['node', 'cpnet', 'viz', 'token', '--node', national.url, '--operator', 'ops'], missing)).toBe(2);
    expect(missing.stderr.join('\n')).toMatch(/--viewer/);
  }, 30_000);

  it('renews through the visualiser after the first lifetime; the expired token is refused plainly', async () => {
    await runViz(
      {
        live: national.url,
        operator: 'ops',
        viewer: 'wall',
        password: 'operator-pass-1',
        port: '0',
        host: '127.0.0.1',
      },
      bufferIo(),
      async (server) => {
        const config = (await (await fetch(new URL('config.json', server.url))).json()) as {
          token: string;
          renewal: string;
        };
        expect(config.renewal).toBe('token');
        expect(await connectWith(config.token)).toEqual({ snapshot: true });
        // The node's clock passes the token's lifetime (3600 s) and the 30 s of skew a token is allowed.
        offsetMs += 3_640_000;
        const refused = await connectWith(config.token);
        expect(refused).toMatchObject({
          refused: 'UNAUTHENTICATED: the viewer token was refused: the token has expired',
        });
        const res = await fetch(new URL(config.renewal, server.url), { method: 'POST' });
        expect(res.status).toBe(200);
        const fresh = (await res.json()) as { token: string; renewInMs: number };
        expect(fresh.renewInMs).toBe(1_800_000);
        expect(await connectWith(fresh.token)).toEqual({ snapshot: true });
      },
    );
  }, 90_000);
});
