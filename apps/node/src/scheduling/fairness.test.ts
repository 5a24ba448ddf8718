import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { formatIdentifier } from '@cpnet/identifier';
import { formatTime, JobUpdate, type GatewayAck } from '@cpnet/protocol';
import { openSqliteStores, type SqliteStores } from '../store/stores.ts';
import { SchedulingService } from './service.ts';
import { facts, fullReport, template } from './testing.ts';
import type { FairnessOptions } from './admission.ts';
import { SchedulingConfig } from './config.ts';

// Fair admission at a node whose own capacity is contended, on a real SQLite job store. Node time is a fake clock
// (virtual hours); jobs finish when their declared duration has passed (the test plays the gateway).

const H = 3_600_000;
let dir: string;
let db: SqliteStores;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cpnet-fair-'));
  db = await openSqliteStores(path.join(dir, 'node.db'));
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

let serial = 5000;
function node(fairness: FairnessOptions | null) {
  const clock = createFakeClock(Date.UTC(2026, 11, 5, 0));
  const code = 'CPN.51';
  const s = new SchedulingService({
    code,
    parent: null,
    clock,
    store: db.jobs,
    gateways: {
      dispatch: () => Promise.resolve<GatewayAck>({ ok: true }),
      cancel: () => Promise.resolve<GatewayAck>({ ok: true }),
    },
    peers: {
      place: () => Promise.resolve({ ok: false, refusals: [], summary: 'no peers' }),
      select: () => Promise.resolve(null),
      relay: () => Promise.resolve(),
      cancel: () => Promise.resolve(),
      summary: () => Promise.resolve(null),
      metering: () => Promise.resolve(undefined),
    },
    emit: () => undefined,
    newJobId: () => {
      const r = formatIdentifier({ prefix: code, kind: 'JB', serial: String(serial++) });
      return Promise.resolve(r.ok ? r.value : '');
    },
    options: { tickMs: 1e9, summaryMs: 1e9, retryMs: 60_000, fairness },
  });
  // One small cluster: 12 cores (2:1 of it is whole: 8 and 4).
  const f = facts(code, { cpuCores: 12 });
  s.upsertCluster(f);
  s.onReport([fullReport(f)], clock.now());
  const running = new Map<string, { tenant: string; since: number }>();
  /** Finishes every running job whose declared hour has passed, then one tick. */
  const step = async (ms: number) => {
    clock.advance(ms);
    for (const [id, r] of running) {
      if (clock.now() - r.since < H) continue;
      const j = s.job(id)!;
      await s.onJobUpdate(
        JobUpdate.parse({
          protocol: '1.0',
          seq: 1,
          job: id,
          cluster: j.cluster,
          attempt: j.attempt,
          state: 'finished',
          at: formatTime(clock.now()),
        }),
      );
      running.delete(id);
    }
    await s.tick();
    for (const id of queued) {
      const j = s.job(id);
      if (j?.state === 'dispatched') {
        running.set(id, { tenant: j.tenant, since: clock.now() });
        queued.delete(id);
      }
    }
  };
  const queued = new Set<string>();
  const submit = async (tenant: string, priority = 0) => {
    const j = await s.submit(template({ demand: { cpuCores: 1, memoryGib: 4 }, durationHours: 1, priority }), tenant);
    if (j.state === 'dispatched') running.set(j.id, { tenant, since: clock.now() });
    else queued.add(j.id);
    return j;
  };
  return { s, clock, step, submit, running, queued };
}

describe('fair admission at a contended node (real SQLite job store)', () => {
  it('two tenants weighted 2:1 flooding a 12-core node get shares near 2:1; a waiting job says why', async () => {
    const n = node({ weights: { a: 2, b: 1 }, agingPerHour: 2, backfill: true });
    // a floods first and takes the whole node at once (nothing contends yet); b's jobs queue.
    for (let i = 0; i < 16; i++) await n.submit('a');
    for (let i = 0; i < 16; i++) await n.submit('b');
    expect([...n.running.values()].filter((r) => r.tenant === 'a')).toHaveLength(12);
    const waiting = n.s.job([...n.queued].at(-1)!)!;
    expect(waiting.history.at(-1)!.detail).toMatch(/fair admission: tenant b holds 0 % .* at weight 1/);
    // Both keep a backlog for 6 virtual hours (steps of 10 virtual minutes); shares measured from hour 1.
    const held = { a: 0, b: 0 };
    for (let t = 0; t < 36; t++) {
      await n.step(10 * 60_000);
      for (const tenant of ['a', 'b'] as const) {
        const backlog = [...n.queued].filter((id) => n.s.job(id)?.tenant === tenant).length;
        for (let k = backlog; k < 8; k++) await n.submit(tenant);
      }
      if (t >= 6) for (const r of n.running.values()) held[r.tenant as 'a' | 'b']++;
    }
    const ratio = held.a / held.b;
    expect(ratio).toBeGreaterThan(1.7);
    expect(ratio).toBeLessThan(2.3);
    const b = [...n.queued].map((id) => n.s.job(id)!).find((j) => j.tenant === 'b')!;
    expect(b.history.at(-1)!.detail).toMatch(/shares: .*a \d+ % at weight 2/);
  });

  it("a waiting job's note, written in the round that admits others, gives the shares after those admissions", async () => {
    const n = node({ weights: { a: 2, b: 1 }, agingPerHour: 2, backfill: true });
    for (let i = 0; i < 28; i++) await n.submit('a');
    for (let i = 0; i < 16; i++) await n.submit('b');
    // The 12 running finish; one round admits 12 of the waiting (the round starts with nothing held).
    await n.step(H);
    const now = [...n.running.values()];
    expect(now).toHaveLength(12);
    const pctOf = (t: string) => Math.round((now.filter((r) => r.tenant === t).length / 12) * 100);
    expect(pctOf('a')).toBeGreaterThan(0);
    expect(pctOf('b')).toBeGreaterThan(0);
    const waiting = [...n.queued].map((id) => n.s.job(id)!).find((j) => j.tenant === 'b')!;
    expect(waiting.history.at(-1)!.detail).toContain(`b ${pctOf('b')} % at weight 1`);
    expect(waiting.history.at(-1)!.detail).toContain(`a ${pctOf('a')} % at weight 2`);
  });

  it('a low-priority job under a sustained high-priority stream ages and runs; without aging it starves', async () => {
    const waitOf = async (agingPerHour: number) => {
      const n = node({ weights: {}, agingPerHour, backfill: true });
      for (let i = 0; i < 12; i++) await n.submit('a', 5);
      const low = await n.submit('a', 0);
      expect(low.state).toBe('queued');
      // A stream of priority-5 jobs keeps 16 waiting (more than the node holds) for 10 virtual hours.
      for (let t = 0; t < 60; t++) {
        const backlog = [...n.queued].filter((id) => id !== low.id).length;
        for (let k = backlog; k < 16; k++) await n.submit('a', 5);
        await n.step(10 * 60_000);
        if (n.running.has(low.id)) return (t + 1) * 10 * 60_000;
      }
      return Infinity;
    };
    const aged = await waitOf(2);
    // Aging 2 points per hour passes priority 5 after 2.5 h: within 10 × its declared hour.
    expect(aged).toBeGreaterThanOrEqual(2 * H);
    expect(aged).toBeLessThanOrEqual(10 * H);
    expect(await waitOf(0)).toBe(Infinity);
  }, 60_000);

  it('a waiting job no free cluster can take (its arch) holds no share of the capacity: the others run', async () => {
    const n = node({ weights: {}, agingPerHour: 2, backfill: true });
    const odd = await n.s.submit(
      template({ demand: { cpuCores: 12, memoryGib: 4 }, durationHours: 1, constraints: { arch: 'aarch64' } }),
      'c',
    );
    expect(odd.state).toBe('queued');
    for (let i = 0; i < 3; i++) await n.submit('z');
    await n.step(1000);
    expect(n.running.size).toBe(3);
    expect(n.s.job(odd.id)?.state).toBe('queued');
  });

  it('settings: defaults on (every tenant weight 1, aging 2/h, backfill); a weight ≤ 0 is refused naming the tenant', () => {
    expect(SchedulingConfig.parse({}).fairness).toEqual({ weights: {}, agingPerHour: 2, backfill: true });
    expect(SchedulingConfig.parse({ fairness: null }).fairness).toBeNull();
    const bad = SchedulingConfig.safeParse({ fairness: { weights: { acme: 0 } } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['fairness', 'weights', 'acme']);
  });
});
