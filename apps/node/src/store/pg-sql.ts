// The hot-path connection of the PostgreSQL stores: node-postgres with a pool for reads and one writer connection
// for the units of work, which commit in groups as on SQLite (one transaction, a savepoint per unit).
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { awaitedOutsideStore, nestedWrite } from './unit-of-work.ts';
import { CommitQueue, settle, type QueuedUnit, type UnitOutcome } from './group-commit.ts';

/** What a statement gives back: its rows and how many rows it changed (INSERT … ON CONFLICT DO NOTHING: 0 or 1). */
export interface PgResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

/**
 * Work in flight, as a simulator's clock counts it: `begin` when a piece of database work starts, the returned
 * function when it ends. At `speed: max` the simulator jumps virtual time only when nothing is in flight; a
 * PostgreSQL statement is a round trip to another process that may outlast the task that started it (a timer's), so
 * the node reports every one. SQLite needs none: its statements run inside the task that asks for them.
 */
export interface DatabaseWork {
  begin(): () => void;
}

/**
 * node-postgres's Client, counting each query from the moment it is sent until its answer (or error) as `work`: for
 * the pool, the writer and Prisma's own pool (adapter-pg), which all take a `Client` class. Queries are sent in the
 * three forms node-postgres knows: with a callback (pg-pool), as a promise (ours, adapter-pg), or as a submittable
 * (not used here: sent uncounted).
 */
export function countingClient(work: DatabaseWork): typeof pg.Client {
  class CountingClient extends pg.Client {}
  const send = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  (CountingClient.prototype as { query: unknown }).query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as { submit?: unknown } | null | undefined;
    if (first && typeof first.submit === 'function') return send.apply(this, args);
    const end = work.begin();
    const last = args.length - 1;
    const callback = args[last];
    if (last > 0 && typeof callback === 'function') {
      args[last] = (...r: unknown[]) => {
        end();
        return (callback as (...r: unknown[]) => unknown)(...r);
      };
      try {
        return send.apply(this, args);
      } catch (e) {
        end();
        throw e;
      }
    }
    let r: unknown;
    try {
      r = send.apply(this, args);
    } catch (e) {
      end();
      throw e;
    }
    if (r instanceof Promise) r.then(end, end);
    else end();
    return r;
  };
  return CountingClient;
}

/** The PostgreSQL hot-path connection. */
export interface PgSql {
  /**
   * Runs a statement (prepared once per connection, named by its text's hash). Inside `write` it runs on the
   * unit's transaction; outside, on a pooled connection (it sees committed data only).
   */
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PgResult<R>>;
  /**
   * A data-modifying statement whose answer nobody reads (an INSERT without RETURNING). Inside `write` it is held and
   * sent with the unit's other held statements as one statement (each but the last a CTE of the last: one round
   * trip) before the unit's next `query` and before the unit ends, so its error fails the unit there; a unit holds
   * one statement of each text at most (the order of rows within one table is kept). Outside `write` it is `query`.
   */
  hold(text: string, values?: unknown[]): Promise<void>;
  /**
   * Runs `fn` as a unit of work: units queued while a transaction runs commit together in the next one (group
   * commit), each in a savepoint, so one that throws undoes only its own changes. The promise settles after the
   * commit. Units run one at a time, as on SQLite: the node's read-then-write units need no isolation level above
   * read committed and never deadlock each other. A unit must await nothing but its own statements: one that is
   * pending with none of its statements running once the microtasks have run (it awaits a timer, a network call, a
   * Prisma query outside its transaction, another unit) is undone and fails with `UnitOfWorkError`
   * 'awaited-outside-store'; a `write` called inside a unit fails with 'nested-write'.
   */
  write<T>(fn: () => T | Promise<T>): Promise<T>;
  /** As `SqlStore.enlist`: the unit joins the next group commit, or commits alone after `ENLIST_WAIT_MS`. */
  enlist<T>(fn: () => T | Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A timestamp as the stores write it: ISO text in UTC (what Prisma's DateTime column reads back). */
export const iso = (ms: number) => new Date(ms).toISOString();

const TIMESTAMP = 1114; // timestamp without time zone: Prisma's DateTime on PostgreSQL, always UTC
const TIMESTAMPTZ = 1184;
const INT8 = 20;

/**
 * Values as the SQLite connection gives them: timestamps as ISO text (Prisma writes UTC into `timestamp(3)`; the
 * default parser would read them as local time), 64-bit integers (COUNT, SUM) as numbers.
 */
function getTypeParser(oid: number, format?: 'text' | 'binary') {
  if (oid === TIMESTAMP) return (s: string) => `${s.replace(' ', 'T')}Z`;
  if (oid === TIMESTAMPTZ) return (s: string) => new Date(s).toISOString();
  if (oid === INT8) return (s: string) => Number(s);
  return pg.types.getTypeParser(oid, format ?? 'text');
}

/**
 * Opens the pool (`max` connections for reads) and the writer connection. With `work`, every statement and every
 * unit of work (from `write` until it settles, its wait in the queue included) counts as work in flight.
 */
export async function openPgSql(url: string, options: { max?: number; work?: DatabaseWork } = {}): Promise<PgSql> {
  const { work } = options;
  const Client = work ? countingClient(work) : pg.Client;
  // Sessions in UTC, whatever the server's TimeZone: Prisma's DateTime columns hold UTC without a zone.
  const config = {
    connectionString: url,
    types: { getTypeParser } as pg.CustomTypesConfig,
    options: '-c TimeZone=UTC',
    Client,
  };
  const pool = new pg.Pool({ ...config, max: options.max ?? 8 });
  // An idle pooled connection the server ends (a restart, a failover) is dropped from the pool, not fatal.
  pool.on('error', () => {});
  // The writer connection; a lost one (a server restart, a failover) fails the group it was running and is
  // replaced before the next group.
  let writerError: Error | null = null;
  const connectWriter = async () => {
    const client = new Client(config);
    client.on('error', (e) => (writerError = e));
    client.on('end', () => (writerError ??= new Error('the writer connection ended')));
    await client.connect();
    writerError = null;
    return client;
  };
  let writer = await connectWriter();
  /** The unit of work running now: its statements in flight, and whether it is over (settled or failed). */
  interface Unit {
    inflight: number;
    over: boolean;
    failed: boolean;
    /** Fails the unit if it is pending with no statement in flight once the microtasks have run. */
    check(): void;
    /** Statements held for the unit's next round trip (`hold`). */
    held: { text: string; values: unknown[] }[];
  }
  const inUnit = new AsyncLocalStorage<Unit>();
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let n = names.get(text);
    if (!n) {
      n = `cpn_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
      names.set(text, n);
    }
    return n;
  };
  /** Sends a unit's held statements as one: `WITH held_0 AS (…), held_1 AS (…) <last>`, parameters renumbered. */
  const release = async (unit: Unit): Promise<void> => {
    const held = unit.held.splice(0);
    if (held.length === 0) return;
    const values: unknown[] = [];
    const texts = held.map((h) => {
      const offset = values.length;
      values.push(...h.values);
      return offset ? h.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`) : h.text;
    });
    const last = texts.pop()!;
    const text = texts.length ? `WITH ${texts.map((t, i) => `held_${i} AS (${t})`).join(', ')} ${last}` : last;
    unit.inflight++;
    try {
      await writer.query({ name: nameOf(text), text, values });
    } finally {
      if (--unit.inflight === 0) unit.check();
    }
  };
  const query = async <R>(text: string, values: unknown[] = []): Promise<PgResult<R>> => {
    const unit = inUnit.getStore();
    // A callback made inside a unit (a timer, a listener) keeps its context after the unit is over: it runs outside.
    if (!unit || (unit.over && !unit.failed)) {
      const r = await pool.query({ name: nameOf(text), text, values });
      return { rows: r.rows as R[], rowCount: r.rowCount };
    }
    if (unit.failed) throw awaitedOutsideStore();
    if (unit.held.length) await release(unit);
    unit.inflight++;
    try {
      const r = await writer.query({ name: nameOf(text), text, values });
      return { rows: r.rows as R[], rowCount: r.rowCount };
    } finally {
      if (--unit.inflight === 0) unit.check();
    }
  };

  const queue = new CommitQueue(() => void flush());
  // Runs one unit, failing it if it awaits something other than its own statements (see `write`).
  function runUnit(fn: () => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const unit: Unit = {
        inflight: 0,
        over: false,
        failed: false,
        held: [],
        check() {
          setImmediate(() => {
            if (unit.over || unit.inflight > 0) return;
            unit.over = true;
            unit.failed = true;
            reject(awaitedOutsideStore());
          });
        },
      };
      inUnit.run(unit, () => {
        Promise.resolve()
          .then(fn)
          .then(async (v) => {
            // Its held statements are sent while it is still running: their errors are its own.
            if (!unit.over && unit.held.length) await release(unit);
            return v;
          })
          .then(
            (v) => {
              if (unit.over) return;
              unit.over = true;
              resolve(v);
            },
            (e: unknown) => {
              if (unit.over) return;
              unit.over = true;
              reject(e);
            },
          );
        unit.check();
      });
    });
  }
  // The transaction's own statements share round trips (simple-protocol queries of several statements, none with
  // parameters): a group of n units costs n + 1 of them around the units' statements, not 2n + 2; a unit alone 2.
  async function runUnits(items: QueuedUnit[]): Promise<UnitOutcome[]> {
    const outcomes: UnitOutcome[] = [];
    // One unit alone needs no savepoint: the transaction is its own.
    const alone = items.length === 1;
    await writer.query(alone ? 'BEGIN' : 'BEGIN; SAVEPOINT unit');
    for (const [i, it] of items.entries()) {
      let undo = '';
      try {
        outcomes.push({ ok: true, value: await runUnit(it.fn) });
      } catch (error) {
        if (alone) throw error;
        undo = 'ROLLBACK TO SAVEPOINT unit; ';
        outcomes.push({ ok: false, error });
      }
      const next = i === items.length - 1 ? 'COMMIT' : 'SAVEPOINT unit';
      await writer.query(alone ? 'COMMIT' : `${undo}RELEASE SAVEPOINT unit; ${next}`);
    }
    return outcomes;
  }
  async function flush(): Promise<void> {
    const items = queue.take();
    if (!items) return;
    let outcomes: UnitOutcome[] | null = null;
    let failure: unknown = null;
    try {
      if (writerError) {
        await writer.end().catch(() => {});
        writer = await connectWriter();
      }
      try {
        outcomes = await runUnits(items);
      } catch (e) {
        await writer.query('ROLLBACK').catch(() => {});
        throw e;
      }
    } catch (e) {
      failure = e;
    }
    queue.release();
    if (outcomes) settle(items, outcomes);
    else for (const it of items) it.reject(failure);
    queue.schedule();
  }

  function enqueue<T>(fn: () => T | Promise<T>, lazy: boolean): Promise<T> {
    const unit = inUnit.getStore();
    if (unit && !unit.over) return Promise.reject(nestedWrite());
    const queued = queue.add(fn, lazy);
    // A unit counts as database work in flight (the simulator's clock) from here until it settles.
    if (!work) return queued;
    const end = work.begin();
    queued.then(end, end);
    return queued;
  }

  return {
    query,
    async hold(text, values = []) {
      const unit = inUnit.getStore();
      if (!unit || (unit.over && !unit.failed)) {
        await query(text, values);
        return;
      }
      if (unit.failed) throw awaitedOutsideStore();
      if (unit.held.some((h) => h.text === text)) await release(unit);
      unit.held.push({ text, values });
    },
    write: (fn) => enqueue(fn, false),
    enlist: (fn) => enqueue(fn, true),
    async close() {
      await writer.end().catch(() => {});
      writerError = null;
      await pool.end();
    },
  };
}
