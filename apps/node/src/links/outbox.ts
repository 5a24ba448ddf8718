import type { NodeClient } from '@cpnet/client';
import type { Clock } from '@cpnet/kernel';
import type { Logger } from 'pino';
import type { Delivery, QueuedDelivery } from '../store/outbox.ts';
import type { NodeStores } from '../store/stores.ts';

export type { Delivery } from '../store/outbox.ts';

/** A durable outbox: deliveries survive a restart and are retried with backoff until the receiver accepts them. */
export interface Outbox {
  /** Queues a delivery; resolves once it is durable (it joins the node's group commit). */
  enqueue(delivery: Delivery): Promise<void>;
  /**
   * Queues a delivery inside the caller's open transaction (`NodeStores.write`), so it commits with the write it
   * belongs to; kick the outbox after the transaction commits.
   */
  enqueueInTransaction(delivery: Delivery): Promise<void>;
  /** Deliveries waiting. */
  depth(): Promise<number>;
  /** Peers backing off after a failed delivery (node time). */
  backingOff(): number;
  /** Starts draining (idempotent); called again after each enqueue. */
  kick(): void;
  /** Resolves true when nothing is pending, false after `timeoutMs` of wall time. */
  idle(timeoutMs?: number): Promise<boolean>;
  stop(): void;
}

interface Deps {
  /** The node's stores: the outbox table and the unit of work (a queue write costs microseconds). */
  db: Pick<NodeStores, 'write' | 'outbox' | 'durable'>;
  /** Node time: queue timestamps and the retry backoff (`retry`), so retries follow a simulation's clock. */
  clock: Clock;
  /** Wall time: the linger before a drain and `idle`'s timeout, which wait on real requests. */
  wall: Clock;
  logger: Logger;
  clientFor(endpoint: string): NodeClient;
  /** Backoff after a failed delivery, node ms: doubled from `initialMs` up to `maxMs`. */
  retry: { initialMs: number; maxMs: number };
  /**
   * How long a kick waits before draining (wall ms), so deliveries enqueued meanwhile merge into the same request
   * (as Kafka's linger.ms). 0 drains at once.
   */
  lingerMs?: number;
  /** Called with the number of queued deliveries one request completed. */
  onDelivered?(path: string, count: number): void;
  /** Called when a delivery attempt failed and will be retried (its peer backs off). */
  onFailed?(path: string): void;
  /** Called when the peer refused a delivery (4xx) and it went to the dead letters: raise the alert. */
  onRefused?(refused: { deadLetters: number; endpoint: string; path: string; status: number; answer: unknown }): void;
}

/** A 4xx other than 401 (re-signed and retried) and 429 (retried later): the peer will refuse this body again. */
const refusedFor = (r: { ok: boolean; status?: number }) =>
  !r.ok && r.status !== undefined && r.status >= 400 && r.status < 500 && r.status !== 401 && r.status !== 429;

const COPIES = '/cpn/v1/copies';

/**
 * Paths whose bodies are lists that merge into one request: record copies, summaries, forwarded events, job relays.
 * Each item carries its own idempotency key (record version, summary key, event id, history sequence), so the
 * receiver deduplicates items, and one request drains up to 200 queued deliveries (at most `max` items).
 */
const MERGEABLE: Record<string, { field: string; max: number }> = {
  [COPIES]: { field: 'records', max: 1000 },
  '/cpn/v1/summaries': { field: 'items', max: 1000 },
  '/cpn/v1/events': { field: 'events', max: 1000 },
  '/cpn/v1/scheduling/job-updates': { field: 'relays', max: 500 },
};

/** The items of a queued body; a job relay queued singly (before relays were batched) is one item. */
function itemsOf(body: Record<string, unknown>, field: string): unknown[] {
  const items = body[field];
  if (Array.isArray(items)) return items;
  return field === 'relays' && 'job' in body ? [body] : [];
}

interface Relay {
  job: string;
  entries: unknown[];
  metering?: unknown[];
}

/** Most history entries, and metering lines, in one JobRelay (its schema's limit). */
const RELAY_MAX = 100;

/**
 * Appends job relays to `items`, coalescing each into an earlier relay of the same job when the two fit in one (≤ 100
 * entries and metering lines): the receiver applies one relay's entries in order, as it applied consecutive relays of
 * the job, and ignores an entry it has (each is keyed by state and attempt), so nothing is lost or applied twice; the
 * receiver does one save and one relay onward instead of several. `at` maps a job to its relay's index in `items`.
 */
function coalesceRelays(items: unknown[], more: unknown[], at: Map<string, number>): void {
  for (const m of more) {
    const r = m as Relay;
    const i = typeof r.job === 'string' && Array.isArray(r.entries) ? at.get(r.job) : undefined;
    const into = i === undefined ? undefined : (items[i] as Relay);
    if (
      into &&
      into.entries.length + r.entries.length <= RELAY_MAX &&
      (into.metering?.length ?? 0) + (r.metering?.length ?? 0) <= RELAY_MAX
    ) {
      const metering = [...(into.metering ?? []), ...(r.metering ?? [])];
      items[i!] = { ...into, entries: [...into.entries, ...r.entries], ...(metering.length ? { metering } : {}) };
      continue;
    }
    if (typeof r.job === 'string') at.set(r.job, items.length);
    items.push(m);
  }
}

/** The endpoint of a queued delivery, read from its JSON without parsing the body when the text starts with it. */
function endpointOf(payload: string): string {
  const head = '{"endpoint":"';
  if (payload.startsWith(head)) {
    const end = payload.indexOf('"', head.length);
    const raw = payload.slice(head.length, end);
    if (!raw.includes('\\')) return raw;
  }
  return (JSON.parse(payload) as Delivery).endpoint;
}

type TimerFor = 'linger' | 'peers' | 'self';

/** A peer's backoff: no delivery to it before `until` (node ms); `delay` doubles with each failure in a row. */
interface Backoff {
  until: number;
  delay: number;
}

/**
 * Creates the outbox. Failures (unreachable, 5xx, 401, 429) back off exponentially **per peer**: the queue drains in
 * order for each endpoint, and a peer that is down (a partitioned child, a dead parent) holds up only its own
 * deliveries, not those to the node's other peers. A refusal (another 4xx) of a merged request is retried delivery by
 * delivery; each delivery still refused alone becomes a dead letter with the peer's answer (`onRefused` raises the
 * alert), and the others are delivered. Nothing is dropped.
 */
export function createOutbox(deps: Deps): Outbox {
  let running = false;
  let stopped = false;
  let timer: (() => void) | null = null;
  /**
   * What the pending timer is: a linger (wall) that a kick joins; the wait for peers' backoffs (node time), which a kick
   * ends; or the backoff after a failure of the node's own (node time), which it does not.
   */
  let timerFor: TimerFor = 'linger';
  /** Backoff after a failure of the node's own (its storage), which stops every delivery. */
  let delay = deps.retry.initialMs;
  const backoffs = new Map<string, Backoff>();
  /**
   * Queue positions up to `to` hold only deliveries to peers backing off, until `until` (the first of those backoffs
   * to end): the scan for a ready delivery starts after them, so a long backlog to a dead peer is read once per backoff,
   * not once per drain. New deliveries only ever go to the end of the queue.
   */
  let skip = { to: 0, until: Infinity };
  let waiters: (() => void)[] = [];
  let again = false;

  /** Notes a failed delivery to `endpoint`: its backoff starts, or doubles. Answers the wait (node ms). */
  function backOff(endpoint: string): number {
    const b = backoffs.get(endpoint);
    const wait = b ? Math.min(b.delay * 2, deps.retry.maxMs) : deps.retry.initialMs;
    backoffs.set(endpoint, { until: deps.clock.now() + wait, delay: wait });
    return wait;
  }

  /**
   * The queued deliveries from the oldest one to a peer not backing off, to the end of its page; or, when every
   * queued delivery is to peers backing off, how long until the first backoff ends (null: the queue is empty).
   */
  async function ready(): Promise<{ rows: QueuedDelivery[] } | { waitMs: number | null }> {
    const now = deps.clock.now();
    if (now >= skip.until) skip = { to: 0, until: Infinity };
    let after = skip.to;
    for (;;) {
      const rows = await deps.db.outbox.oldest(200, after);
      if (rows.length === 0) return { waitMs: skip.until === Infinity ? null : skip.until - now };
      for (let i = 0; i < rows.length; i++) {
        const b = backoffs.get(endpointOf(rows[i]!.payload));
        if (!b || b.until <= now) return { rows: rows.slice(i) };
        skip = { to: rows[i]!.id, until: Math.min(skip.until, b.until) };
      }
      after = rows[rows.length - 1]!.id;
    }
  }

  async function drainOnce(): Promise<'empty' | 'progress' | { waitMs: number }> {
    const next = await ready();
    if (!('rows' in next)) return next.waitMs === null ? 'empty' : { waitMs: next.waitMs };
    const rows = next.rows;
    // Rows read may be committed but not yet fsynced (SQLite, `NodeStores.durable`): nothing leaves before they are.
    await deps.db.durable();
    const first = rows[0]!;
    const d = JSON.parse(first.payload) as Delivery;
    let ids = [first.id];
    let body = d.body;
    const bodies = new Map<number, unknown>([[first.id, d.body]]);
    const merge = MERGEABLE[d.path];
    if (merge) {
      const { field, max } = merge;
      // Merge queued deliveries to the same place, oldest first, up to the receiver's batch limit. Receivers order
      // these items themselves (record versions, summary times), so other deliveries between them do not matter.
      const items: unknown[] = [];
      const relaysAt = new Map<string, number>();
      ids = [];
      for (const r of rows) {
        const x = JSON.parse(r.payload) as Delivery & { body: Record<string, unknown> };
        if (x.path !== d.path || x.endpoint !== d.endpoint) continue;
        const more = itemsOf(x.body, field);
        if (items.length > 0 && items.length + more.length > max) break;
        if (field === 'relays') coalesceRelays(items, more, relaysAt);
        else items.push(...more);
        ids.push(r.id);
        bodies.set(r.id, { [field]: more });
      }
      body = { [field]: items };
    }
    const r = await deps.clientFor(d.endpoint).request({ method: 'POST', path: d.path, body });
    if (r.ok) {
      backoffs.delete(d.endpoint);
      await deps.db.write(() => deps.db.outbox.remove(ids));
      deps.onDelivered?.(d.path, ids.length);
      return 'progress';
    }
    if (refusedFor(r)) {
      // One refused item must not hold up (or take down) those merged with it: each item is sent alone (a queued
      // delivery may hold many, e.g. a child's copied batch); only the items still refused become a dead letter.
      if (!merge) return bury(first.id, { d, status: r.status, answer: r.error });
      for (const id of ids) {
        const refused: { item: unknown; status: number; answer: unknown }[] = [];
        for (const item of itemsOf(bodies.get(id) as Record<string, unknown>, merge.field)) {
          const body = { [merge.field]: [item] };
          const alone = await deps.clientFor(d.endpoint).request({ method: 'POST', path: d.path, body });
          if (refusedFor(alone) && !alone.ok) refused.push({ item, status: alone.status, answer: alone.error });
          else if (!alone.ok) {
            // Transient: retry the whole delivery later; receivers deduplicate the items already taken.
            await deps.db.write(() => deps.db.outbox.failed([id]));
            backOff(d.endpoint);
            deps.onFailed?.(d.path);
            return 'progress';
          }
        }
        if (refused.length === 0) {
          await deps.db.write(() => deps.db.outbox.remove([id]));
          deps.onDelivered?.(d.path, 1);
          continue;
        }
        await bury(id, {
          d: { ...d, body: { [merge.field]: refused.map((x) => x.item) } },
          status: refused[0]!.status,
          answer: refused.length === 1 ? refused[0]!.answer : refused.map((x) => x.answer),
        });
      }
      return 'progress';
    }
    await deps.db.write(() => deps.db.outbox.failed(ids));
    const retryInMs = backOff(d.endpoint);
    deps.onFailed?.(d.path);
    deps.logger.warn(
      { endpoint: d.endpoint, path: d.path, status: r.status, retryInMs, reason: r.error.message },
      'delivery failed; retrying this peer with backoff (the others go on)',
    );
    // Deliveries to the node's other peers go on at once.
    return 'progress';
  }

  /** Keeps a refused delivery (`d`: only its refused items) as a dead letter with the answer; logs and alerts. */
  async function bury(id: number, refusal: { d: Delivery; status: number; answer: unknown }): Promise<'progress'> {
    const { d, status, answer } = refusal;
    await deps.db.write(() => deps.db.outbox.bury(id, { delivery: d, status, answer, at: deps.clock.now() }));
    deps.logger.error(
      { endpoint: d.endpoint, path: d.path, status, answer },
      'delivery refused by the peer; kept as a dead letter (cpnet node outbox list|retry)',
    );
    deps.onRefused?.({ deadLetters: 1, endpoint: d.endpoint, path: d.path, status, answer });
    return 'progress';
  }

  /** Drains again after `ms`: on the wall clock for a linger, on the node clock for a backoff. */
  function schedule(ms: number, kind: TimerFor) {
    if (stopped || timer) return;
    timerFor = kind;
    timer = (kind === 'linger' ? deps.wall : deps.clock).setTimeout(() => {
      timer = null;
      void run();
    }, ms);
  }

  /**
   * Drains after the linger. A pending linger already covers a new delivery, and the node's own backoff holds it too;
   * a wait for peers' backoffs does not (the delivery may be to a peer that is up), so it gives way — the drain skips
   * the peers still backing off and waits again.
   */
  function lingerThenRun(): void {
    if (timer && timerFor !== 'peers') return;
    timer?.();
    timer = null;
    const linger = deps.lingerMs ?? 0;
    if (linger <= 0) void run();
    else schedule(linger, 'linger');
  }

  async function run(): Promise<void> {
    if (running || stopped) return;
    running = true;
    try {
      for (;;) {
        if (stopped) return;
        const r = await drainOnce();
        if (r === 'empty') {
          delay = deps.retry.initialMs;
          waiters.forEach((w) => w());
          waiters = [];
          return;
        }
        delay = deps.retry.initialMs;
        if (r !== 'progress') {
          // Everything queued is to peers backing off: wait for the first of them.
          schedule(Math.max(0, r.waitMs), 'peers');
          return;
        }
      }
    } catch (e) {
      if (!stopped) {
        deps.logger.error({ err: e }, 'outbox drain failed');
        schedule(delay, 'self');
        // Backs off as for a failed delivery (a failure of the node's own, e.g. its storage, lasts).
        delay = Math.min(delay * 2, deps.retry.maxMs);
      }
    } finally {
      running = false;
      // A kick that came while this drain ran may have enqueued after its last read: drain once more.
      if (again && !stopped) {
        again = false;
        lingerThenRun();
      }
    }
  }

  return {
    async enqueue(delivery) {
      await deps.db.write(() => deps.db.outbox.add(delivery, deps.clock.now()));
    },
    enqueueInTransaction: (delivery) => deps.db.outbox.add(delivery, deps.clock.now()),
    depth: () => deps.db.outbox.count(),
    backingOff() {
      const now = deps.clock.now();
      let n = 0;
      for (const b of backoffs.values()) if (b.until > now) n++;
      return n;
    },
    kick() {
      if (running) {
        again = true;
        return;
      }
      if (!stopped) lingerThenRun();
    },
    idle(timeoutMs = 5000) {
      return new Promise((resolve) => {
        const cancel = deps.wall.setTimeout(() => resolve(false), timeoutMs);
        waiters.push(() => {
          cancel();
          resolve(true);
        });
        void run();
      });
    },
    stop() {
      stopped = true;
      timer?.();
    },
  };
}
