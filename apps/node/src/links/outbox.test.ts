import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeClient } from '@cpnet/client';
import { createFakeClock, type Clock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { openSqliteStores, type SqliteStores } from '../store/stores.ts';
import { createOutbox } from './outbox.ts';

/** A peer that refuses (400) any batch holding a summary marked bad, as a parent's schema would. */
function fakePeer() {
  const received: string[] = [];
  let requests = 0;
  const client = {
    request: (spec: { body?: unknown }) => {
      requests++;
      const items = (spec.body as { items: { key: string; bad?: boolean }[] }).items;
      if (items.some((i) => i.bad))
        return Promise.resolve({
          ok: false,
          status: 400,
          error: { status: 400, code: 'SCHEMA_VIOLATION', message: 'too big', field: 'items.0.summary' },
        });
      received.push(...items.map((i) => i.key));
      return Promise.resolve({ ok: true, status: 200, value: {} });
    },
  } as unknown as NodeClient;
  return { client, received, requests: () => requests };
}

let dir: string;
let db: SqliteStores;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cpnet-outbox-'));
  db = await openSqliteStores(path.join(dir, 'node.db'));
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the outbox handles refusals per item', () => {
  it('delivers the items merged with a refused one, keeps the refused one as a dead letter and alerts', async () => {
    const peer = fakePeer();
    const alerts: unknown[] = [];
    const outbox = createOutbox({
      db,
      clock: systemClock,
      wall: systemClock,
      logger: pino({ level: 'silent' }),
      clientFor: () => peer.client,
      retry: { initialMs: 10, maxMs: 50 },
      onRefused: (r) => alerts.push(r),
    });
    const send = (key: string, bad = false) =>
      outbox.enqueue({ endpoint: 'http://parent', path: '/cpn/v1/summaries', body: { items: [{ key, bad }] } });
    await send('s1');
    await send('s2', true);
    await send('s3');
    // One queued delivery of several items (a child's copied batch is one): only its refused item is kept.
    const items = [{ key: 's4' }, { key: 's5', bad: true }, { key: 's6' }];
    await outbox.enqueue({ endpoint: 'http://parent', path: '/cpn/v1/summaries', body: { items } });
    expect(await outbox.idle(2000)).toBe(true);
    expect(peer.received).toEqual(['s1', 's3', 's4', 's6']);
    const dead = await db.outbox.deadLetters();
    expect(dead).toHaveLength(2);
    expect(dead[0]).toMatchObject({ status: 400, answer: { field: 'items.0.summary' } });
    expect(dead.map((l) => (l.delivery.body as { items: { key: string }[] }).items.map((i) => i.key))).toEqual([
      ['s2'],
      ['s5'],
    ]);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toMatchObject({ status: 400, path: '/cpn/v1/summaries' });
    expect(await outbox.depth()).toBe(0);

    // Once the cause is fixed (here: the item itself), a retry queues it again and it is delivered.
    await db.write(() => db.outbox.revive(Date.now()));
    expect(await db.outbox.deadLetters()).toHaveLength(0);
    expect(await outbox.depth()).toBe(2);
    outbox.stop();
  });
});

/**
 * Turns of the event loop for the drain's database writes (group commit on setImmediate), and the WAL fsyncs (on
 * libuv's thread pool) that the outbox's commits wait for: no node time passes.
 */
const drain = async () => {
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await db.durable();
  }
};

/** An outbox on `clock` (node time; fake in the backoff cases) with a silent log, backing off 1 s doubling to 60 s. */
const outboxOn = (
  clock: Clock,
  deps: Pick<Parameters<typeof createOutbox>[0], 'clientFor' | 'onFailed'> & { store?: SqliteStores },
) =>
  createOutbox({
    db: deps.store ?? db,
    clock,
    wall: systemClock,
    logger: pino({ level: 'silent' }),
    clientFor: deps.clientFor,
    retry: { initialMs: 1000, maxMs: 60_000 },
    ...(deps.onFailed ? { onFailed: deps.onFailed } : {}),
  });

describe('the outbox backs off on the node clock', () => {
  it('retries a failed delivery only when the fake clock reaches the backoff, doubling it', async () => {
    const clock = createFakeClock(Date.UTC(2026, 10, 26, 8));
    let requests = 0;
    const client = {
      request: () => {
        requests++;
        return Promise.resolve(
          requests <= 2
            ? { ok: false, status: 503, error: { status: 503, code: 'UPSTREAM_UNAVAILABLE', message: 'busy' } }
            : { ok: true, status: 200, value: {} },
        );
      },
    } as unknown as NodeClient;
    const outbox = outboxOn(clock, { clientFor: () => client });
    try {
      await outbox.enqueue({ endpoint: 'http://parent', path: '/cpn/v1/summaries', body: { items: [{ key: 'a' }] } });
      outbox.kick();
      await drain();
      expect(requests).toBe(1);
      clock.advance(999);
      await drain();
      expect(requests).toBe(1);
      clock.advance(1);
      await drain();
      expect(requests).toBe(2);
      // The second failure doubles the wait: nothing at +1999 ms, the delivery at +2000 ms.
      clock.advance(1999);
      await drain();
      expect(requests).toBe(2);
      clock.advance(1);
      await drain();
      expect(requests).toBe(3);
      expect(await outbox.depth()).toBe(0);
    } finally {
      outbox.stop();
    }
  });
});

describe('a peer that is down holds up only its own deliveries', () => {
  it("delivers to the node's other peers while one backs off, then that one's in queue order once it is back", async () => {
    const clock = createFakeClock(Date.UTC(2026, 11, 7, 8));
    const got: Record<string, string[]> = { 'http://child': [], 'http://parent': [] };
    const asked: string[] = [];
    let childUp = false;
    const clientFor = (endpoint: string) =>
      ({
        request: (spec: { body?: unknown }) => {
          asked.push(endpoint);
          if (endpoint === 'http://child' && !childUp)
            return Promise.resolve({
              ok: false,
              status: 0,
              error: { status: 0, code: 'UPSTREAM_UNAVAILABLE', message: 'timed out after 3000 ms' },
            });
          got[endpoint]!.push(...(spec.body as { items: { key: string }[] }).items.map((i) => i.key));
          return Promise.resolve({ ok: true, status: 200, value: {} });
        },
      }) as unknown as NodeClient;
    const failed: string[] = [];
    const outbox = outboxOn(clock, { clientFor, onFailed: (p) => failed.push(p) });
    const send = (endpoint: string, key: string) =>
      outbox.enqueue({ endpoint, path: '/cpn/v1/summaries', body: { items: [{ key }] } });
    try {
      // The child's deliveries are the oldest in the queue; the parent's come behind them.
      await send('http://child', 'c1');
      await send('http://parent', 'p1');
      outbox.kick();
      await drain();
      expect(got['http://parent']).toEqual(['p1']);
      expect(asked.filter((e) => e === 'http://child')).toHaveLength(1);
      // More for both while the child backs off: the parent's go at once, the child is not asked again.
      await send('http://child', 'c2');
      await send('http://parent', 'p2');
      outbox.kick();
      await drain();
      expect(got['http://parent']).toEqual(['p1', 'p2']);
      expect(asked.filter((e) => e === 'http://child')).toHaveLength(1);
      expect(await outbox.depth()).toBe(2);
      // What an operator sees (cpn_outbox_failed_total, cpn_outbox_peers_backing_off): one failure, one peer waiting.
      expect(failed).toEqual(['/cpn/v1/summaries']);
      expect(outbox.backingOff()).toBe(1);
      // Its backoff ends (node time): asked again, still down, the wait doubles.
      clock.advance(1000);
      await drain();
      expect(asked.filter((e) => e === 'http://child')).toHaveLength(2);
      clock.advance(1999);
      await drain();
      expect(asked.filter((e) => e === 'http://child')).toHaveLength(2);
      // Back: at the end of the doubled wait its deliveries go, merged, in queue order.
      childUp = true;
      clock.advance(1);
      await drain();
      expect(got['http://child']).toEqual(['c1', 'c2']);
      expect(await outbox.depth()).toBe(0);
      expect(failed).toHaveLength(2);
      expect(outbox.backingOff()).toBe(0);
    } finally {
      outbox.stop();
    }
  });
});

describe("the outbox's own failure", () => {
  it('backs off after its storage failed, and a kick does not cut that backoff short', async () => {
    const clock = createFakeClock(Date.UTC(2026, 11, 7, 9));
    let reads = 0;
    const store = {
      ...db,
      // The first read of the queue fails, as a storage error would.
      outbox: {
        ...db.outbox,
        oldest: (limit: number, after?: number) =>
          ++reads === 1 ? Promise.reject(new Error('disk I/O error')) : db.outbox.oldest(limit, after),
      },
    } as unknown as SqliteStores;
    let requests = 0;
    const client = {
      request: () => {
        requests++;
        return Promise.resolve({ ok: true, status: 200, value: {} });
      },
    } as unknown as NodeClient;
    const outbox = outboxOn(clock, { clientFor: () => client, store });
    try {
      await outbox.enqueue({ endpoint: 'http://parent', path: '/cpn/v1/summaries', body: { items: [{ key: 'a' }] } });
      outbox.kick();
      await drain();
      expect(reads).toBe(1);
      outbox.kick();
      await drain();
      expect(requests).toBe(0);
      clock.advance(1000);
      await drain();
      expect(requests).toBe(1);
      expect(await outbox.depth()).toBe(0);
    } finally {
      outbox.stop();
    }
  });
});

describe('job relays: merged, and coalesced per job', () => {
  const PATH = '/cpn/v1/scheduling/job-updates';
  const entry = (state: string, n: number) => ({
    state,
    at: `2026-12-05T09:00:0${n}.000Z`,
    node: 'CPN.51',
    attempt: 1,
  });
  const relay = (job: string, ...states: string[]) => ({ job, entries: states.map((s, i) => entry(s, i)) });

  const many = (n: number) => ({ job: 'J1', entries: Array.from({ length: n }, (_, i) => entry(`s${i}`, 0)) });

  // Each case: the bodies queued for one peer, and the requests' bodies it must receive.
  it.each<[string, { queued: unknown[]; sent: unknown[] }]>([
    [
      'sends the relays queued for one peer as one request, one relay per job with its entries in order',
      {
        queued: [
          { relays: [relay('J1', 'placed')] },
          { relays: [relay('J2', 'placed')] },
          { relays: [{ ...relay('J1', 'dispatched'), metering: [{ line: 1 }] }] },
          { relays: [relay('J1', 'running')] },
          // A relay queued singly (by a node before relays were batched) is one item like the others.
          relay('J3', 'placed'),
          { relays: [relay('J2', 'finished')] },
        ],
        sent: [
          {
            relays: [
              {
                job: 'J1',
                entries: [entry('placed', 0), entry('dispatched', 0), entry('running', 0)],
                metering: [{ line: 1 }],
              },
              { job: 'J2', entries: [entry('placed', 0), entry('finished', 0)] },
              relay('J3', 'placed'),
            ],
          },
        ],
      },
    ],
    [
      'does not coalesce past a relay’s limit of 100 entries',
      {
        queued: [{ relays: [many(60)] }, { relays: [many(50)] }],
        // One request still, but the job's 110 entries stay two relays (60 and 50).
        sent: [{ relays: [many(60), many(50)] }],
      },
    ],
  ])('%s', async (_name, { queued, sent }) => {
    const bodies: unknown[] = [];
    const client = {
      request: (spec: { body?: unknown }) => {
        bodies.push(spec.body);
        return Promise.resolve({ ok: true, status: 200, value: {} });
      },
    } as unknown as NodeClient;
    const outbox = createOutbox({
      db,
      clock: systemClock,
      wall: systemClock,
      logger: pino({ level: 'silent' }),
      clientFor: () => client,
      retry: { initialMs: 10, maxMs: 50 },
    });
    try {
      for (const body of queued) await outbox.enqueue({ endpoint: 'http://parent', path: PATH, body });
      expect(await outbox.idle(2000)).toBe(true);
      expect(bodies).toEqual(sent);
      expect(await outbox.depth()).toBe(0);
    } finally {
      outbox.stop();
    }
  });
});
