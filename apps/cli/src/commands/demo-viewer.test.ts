import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { connectMonitor, createClient, firstMessage } from '@cpnet/client';
import { createFakeClock, type FakeClock } from '@cpnet/kernel';
import { createNode } from '@cpnet/node';
import { cryptoRandomBytes } from '@cpnet/security';
import { viewerRenewal } from './demo.ts';

/** Moves node time on by `ms` in one-minute steps, letting the node's periodic work of each step run. */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 60_000) {
    clock.advance(Math.min(60_000, ms - done));
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Whether the national node's /monitor stream admits `token` (a snapshot), or its refusal. */
async function watch(url: string, token: string): Promise<string> {
  const socket = connectMonitor(url, token);
  try {
    await firstMessage(socket, 'snapshot', 10_000);
    return 'admitted';
  } catch (e) {
    return (e as Error).message;
  } finally {
    socket.close();
  }
}

describe('the demo viewer', () => {
  it("mints and checks tokens on the node's clock: an hour of node time ends a token, the demo's renewal gives a fresh one", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-demo-viewer-'));
    // Node time is a fake clock: the hour passes by advancing it, as a simulation at any speed would.
    const clock = createFakeClock(Date.now());
    const node = await createNode(
      { role: 'national', code: 'CPN', host: '127.0.0.1', port: 0, dataDir: dir },
      { clock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes },
    );
    try {
      const url = await node.listen();
      const signer = { keyid: 'CPN', privateKey: node.context.identity.keys.privateKey };
      const viewer = await viewerRenewal(
        {
          running: true,
          self: () => createClient({ baseUrl: url, signer, clock }),
          anon: () => createClient({ baseUrl: url, clock }),
        },
        10,
      );
      const first = viewer!.token;
      expect(await watch(url, first)).toBe('admitted');
      // The hour, plus the 30 s of clock skew a verifier allows, is node time: nothing real has to pass.
      await advance(clock, 3_629_000);
      expect(await watch(url, first)).toBe('admitted');
      await advance(clock, 2_000);
      expect(await watch(url, first)).toMatch(/UNAUTHENTICATED.*expired/);
      // What the visualiser's page does before expiry, and at once when a reconnection is refused: renew.
      const renewed = await viewer!.renew();
      if (!renewed.ok) throw new Error(renewed.error);
      // Half the hour of node time, in wall time at speed 10.
      expect(renewed.renewInMs).toBe(180_000);
      expect(await watch(url, renewed.token)).toBe('admitted');
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
