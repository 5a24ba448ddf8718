import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeContext } from '../context.ts';
import type { Delivery } from '../links/outbox.ts';
import { loadSettings } from '../store/settings.ts';
import { openSqliteStores, type SqliteStores } from '../store/stores.ts';
import { createEventShipper } from './event-shipper.ts';

// The shipper queues forwarded event types upward and keeps a cursor; on a busy node most of the log is job events,
// which it must step over once, not read again every round.

const dirs: string[] = [];
const stores: SqliteStores[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function shipperAt() {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-shipper-'));
  dirs.push(dir);
  const file = path.join(dir, 'node.db');
  const db = await openSqliteStores(file);
  stores.push(db);
  const settings = await loadSettings(db);
  const queued: Delivery[] = [];
  const ctx = {
    config: { code: 'CPN.51', parentUrl: 'http://127.0.0.1:1' },
    db,
    settings,
    outbox: {
      enqueue: (d: Delivery) => {
        queued.push(d);
        return Promise.resolve();
      },
      kick: () => undefined,
    },
  } as unknown as NodeContext;
  let n = 0;
  const add = (type: string, count = 1, data = '{}') =>
    db.write(async () => {
      for (let i = 0; i < count; i++)
        await db.events.add({
          id: `e${n++}`,
          type,
          at: '2026-11-26T00:00:00.000Z',
          subject: null,
          severity: 'info',
          data,
          node: null,
        });
    });
  const cursor = () => Number(settings.get('events.shipped') ?? '0');
  const newest = () => db.events.newestSeq();
  return { shipper: createEventShipper(ctx), add, queued, cursor, newest };
}

describe('event shipper', () => {
  it('ships forwarded types in order and moves its cursor past the job events between them', async () => {
    const s = await shipperAt();
    await s.add('job.schedule', 300);
    await s.add('cluster.registered');
    await s.add('job.dispatch', 300);
    await s.add('security.alert');
    await s.add('job.finish', 300);
    expect(await s.shipper.ship()).toBe(2);
    expect(s.queued).toHaveLength(1);
    expect((s.queued[0]!.body as { events: { type: string }[] }).events.map((e) => e.type)).toEqual([
      'cluster.registered',
      'security.alert',
    ]);
    expect(s.cursor()).toBe(await s.newest());
  });

  it('ships the placement on a cluster (job.schedule choosing a cluster), not the choices of a subtree', async () => {
    const s = await shipperAt();
    await s.add('job.schedule', 2, JSON.stringify({ cluster: null, explanation: { chosen: 'CPN.62', rejected: [] } }));
    await s.add('job.schedule', 1, JSON.stringify({ cluster: null, explanation: { chosen: 'CPN.62/CL-1' } }));
    expect(await s.shipper.ship()).toBe(1);
    const sent = (s.queued[0]!.body as { events: { data: { explanation: { chosen: string } } }[] }).events;
    expect(sent.map((e) => e.data.explanation.chosen)).toEqual(['CPN.62/CL-1']);
  });

  it('steps over job events alone without shipping anything, and then ships only what is new', async () => {
    const s = await shipperAt();
    await s.add('cluster.health');
    expect(await s.shipper.ship()).toBe(1);
    await s.add('job.finish', 1000);
    expect(await s.shipper.ship()).toBe(0);
    expect(s.cursor()).toBe(await s.newest());
    await s.add('node.health');
    expect(await s.shipper.ship()).toBe(1);
    expect(s.queued.map((d) => (d.body as { events: { type: string }[] }).events.map((e) => e.type))).toEqual([
      ['cluster.health'],
      ['node.health'],
    ]);
  });

  it('ships more than a page of forwarded events in pages of 500, none twice', async () => {
    const s = await shipperAt();
    await s.add('cluster.registered', 1200);
    expect(await s.shipper.ship()).toBe(1200);
    expect(s.queued.map((d) => (d.body as { events: unknown[] }).events.length)).toEqual([500, 500, 200]);
    expect(await s.shipper.ship()).toBe(0);
  });
});
