// The governed clock and a node's database work on PostgreSQL: at `speed: max` virtual time jumps over idle time, and
// a write a timer started is work in flight until it commits (a real server; the write is held up by a real lock).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createNode, openPostgresStores, type PostgresStores } from '@cpnet/node';
import { systemClock } from '@cpnet/kernel/system';
import { cryptoRandomBytes } from '@cpnet/security';
import { startTestPostgres, type TestPostgres } from '@cpnet/node/testing/postgres';
import { createGovernor, type RealTime } from './virtual-clock.ts';

// The governor's wall time is fake (stepped by hand); the database's is real.
function fakeReal() {
  let now = 1000;
  const real: RealTime = { monotonicMs: () => now, setTimeout: () => ({ cancel: () => undefined }) };
  return { real, pass: (ms: number) => void (now += ms) };
}

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** Holds an exclusive lock on the settings table from another connection until `release` is called. */
async function lockSettings(locker: PostgresStores) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holding = locker.prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe('LOCK TABLE "NodeSetting" IN EXCLUSIVE MODE');
      locked();
      await released;
    },
    { timeout: 60_000 },
  );
  await Promise.race([isLocked, holding]);
  return { release, holding };
}

describe("a node's PostgreSQL work counts as in flight for the governed clock", () => {
  it('at max, time does not jump while a write started by a timer waits on the server; it jumps once it commits', async () => {
    const url = await server.migratedDatabase();
    const { real, pass } = fakeReal();
    const g = createGovernor({ start: 0, speed: 'max', real });
    const db = await openPostgresStores(url, { work: g.load });
    const locker = await openPostgresStores(url);
    try {
      expect(g.load.oldest()).toBe(Infinity);
      const lock = await lockSettings(locker);
      let write: Promise<void> | undefined;
      const fired: number[] = [];
      g.clock.setTimeout(() => {
        write = db.write(() => db.settings.put('cursor', 'moved by a timer'));
      }, 1000);
      g.clock.setTimeout(() => fired.push(g.clock.elapsed()), 60_000);
      pass(5);
      g.step(); // idle: jumps to the 1 s timer, which starts the write
      expect(g.clock.elapsed()).toBe(1000);
      expect(write).toBeDefined();
      await sleep(300); // wall: the unit reaches the server and waits for the lock
      for (let i = 0; i < 5; i++) {
        pass(5);
        g.step();
      }
      // Without the count the system looked idle and the clock jumped to the 60 s timer while the write waited.
      expect(fired).toEqual([]);
      expect(g.load.oldest()).toBeLessThan(Infinity);
      expect(g.clock.elapsed()).toBeLessThanOrEqual(1000 + 5 * 5 * 200); // capped at the busy rate, as a request
      expect(g.stats().cappedForInflightMs).toBeGreaterThan(0);
      lock.release();
      await lock.holding;
      await write;
      expect(g.load.oldest()).toBe(Infinity);
      pass(5);
      g.step();
      expect(fired).toEqual([60_000]);
      expect((await db.settings.all()).get('cursor')).toBe('moved by a timer');
    } finally {
      await locker.close();
      await db.close();
    }
  });
});

describe('a node on PostgreSQL', () => {
  it('reports its database work through deps.databaseWork (what startSimNode passes its load as)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-dbwork-'));
    let begun = 0;
    let open = 0;
    const node = await createNode(
      { role: 'national', code: 'CPN', port: 0, dataDir: dir, database: await server.migratedDatabase() },
      {
        clock: systemClock,
        logger: pino({ level: 'silent' }),
        randomBytes: cryptoRandomBytes,
        databaseWork: {
          begin() {
            begun++;
            open++;
            return () => void open--;
          },
        },
      },
    );
    try {
      expect(begun).toBeGreaterThan(0); // the start read and wrote its settings, identity and accounts
      await node.context.settings.set('probe', 'x');
      expect(open).toBe(0);
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
