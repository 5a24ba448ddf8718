import Database from 'better-sqlite3';
import { systemClock } from '@cpnet/kernel/system';
import { CommitQueue, settle, type QueuedUnit, type UnitOutcome } from './group-commit.ts';
import { awaitedOutsideStore, nestedWrite } from './unit-of-work.ts';
import { WalSync } from './wal-sync.ts';

/** The better-sqlite3 connection type. */
export type SqlDatabase = Database.Database;

/**
 * A second, synchronous connection to the node's database for the hot paths (resolution reads, registrations,
 * nonces, the audit log). Prisma costs about a millisecond of CPU per query through its driver adapter; a prepared
 * better-sqlite3 statement costs microseconds, and a synchronous transaction is one commit (one WAL fsync).
 */
export interface SqlStore {
  readonly db: SqlDatabase;
  /** A prepared statement, cached by its text. */
  stmt(sql: string): Database.Statement;
  /**
   * Runs `fn` in a transaction of its own (a savepoint: if it throws, only its changes are undone). Writes queued in
   * the same turn of the event loop commit together — one commit, one WAL fsync, for all of them (group commit) —
   * and each promise settles only after that commit, so nothing is acknowledged before it is durable. `fn` may be
   * async, but must await nothing but store calls: the transaction (and SQLite's write lock) stays open meanwhile.
   * A unit that awaits anything else (it is still pending once the microtasks have run) is undone and fails with
   * `UnitOfWorkError` 'awaited-outside-store'; a `write` called inside a unit fails with 'nested-write'.
   */
  write<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * Like `write`, but the unit does not ask for a commit of its own: it joins the next group commit that a `write`
   * starts, or commits after `ENLIST_WAIT_MS` of wall time when none does (a bound for an idle node; a caller that
   * needs it sooner queues a `write`). Units keep their order: a unit enlisted before a `write` commits in the same
   * transaction as that write or in an earlier one (replay nonces use this).
   */
  enlist<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * A promise that every transaction committed so far is durable, or null when it already is. With durability
   * `power-loss` a commit is written at once and fsynced just after, off the event loop (see `openSqlStore`), so
   * for about one fsync a committed row can be read before it would survive a power loss: what answers or sends
   * what it read (HTTP answers, the outbox) waits for this first. Always null with durability `crash`.
   */
  durable(): Promise<void> | null;
  close(): void;
}

/** SQLite's primary result code for "database is locked by another connection". */
const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']);

/** The text form Prisma's SQLite adapter stores DateTime columns in, so both connections compare alike. */
export function sqlTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/**
 * Opens the hot-path connection. By default (durability `power-loss`) an acknowledged write survives power loss: the
 * connection commits with synchronous NORMAL (in WAL mode: the commit is written to the WAL, not fsynced) and the
 * WAL is then fsynced on libuv's thread pool (`WalSync`); a group's promises settle only after that fsync — what
 * synchronous FULL did inside COMMIT, with the event loop blocked for the fsync (a fifth to a quarter of a node's
 * time under registration load, and 7–13 ms per commit on a disk shared with other work). The next group commits
 * while the fsync runs and shares the next one. With durability `crash` there is no fsync (survives the process
 * dying, not power loss).
 */
export function openSqlStore(
  file: string,
  options: {
    durability?: 'power-loss' | 'crash';
    /** page cache, KiB (unset: the library's default) */ cacheKib?: number;
  } = {},
): SqlStore {
  // timeout 0: never busy-wait synchronously (see `write`).
  const db = new Database(file, { timeout: 0 });
  db.pragma('synchronous = NORMAL');
  // Each unit of a group runs in a savepoint, whose statement journal keeps the original of every page the unit
  // changes (in WAL mode, all of them). With temporary files on disk that journal spilt to one after 64 KiB: ~23
  // `pwrite`s to a deleted temp file per registration, more than the WAL's own writes (issue 26). In memory it is a
  // copy per page, dropped at the savepoint's release. Only this connection's temp storage (its queries are small).
  db.pragma('temp_store = MEMORY');
  if (options.cacheKib !== undefined) db.pragma(`cache_size = -${Math.trunc(options.cacheKib)}`);
  const wal = options.durability === 'crash' ? null : new WalSync(`${file}-wal`);
  db.pragma('foreign_keys = ON');
  const statements = new Map<string, Database.Statement>();
  const stmt = (sql: string) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const queue = new CommitQueue(() => void flush());
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  const savepoint = db.prepare('SAVEPOINT unit');
  const release = db.prepare('RELEASE unit');
  const undo = db.prepare('ROLLBACK TO unit');
  const isThenable = (v: unknown): v is PromiseLike<unknown> =>
    typeof (v as { then?: unknown } | null)?.then === 'function';
  // True while a group's units run. SQLite's stores answer with settled promises, so while it is true only the
  // units' own microtasks run: a `write` now comes from inside a unit (it would wait for its own commit).
  let running = false;
  const STALLED = Symbol('stalled');
  const nextTask = () => new Promise<typeof STALLED>((r) => setImmediate(() => r(STALLED)));
  // Each unit runs in a savepoint of the one transaction. A unit may be async (the store ports are, so that a
  // PostgreSQL implementation can sit behind them); the SQLite stores answer with settled promises, so awaiting
  // them takes only microtasks and no other task of the event loop runs inside the transaction.
  async function runUnits(items: QueuedUnit[]): Promise<UnitOutcome[]> {
    const outcomes: UnitOutcome[] = [];
    // One "next task" per group, not one per unit (a setImmediate and a promise each, issue 26): the units run in
    // microtasks of this task, so the group's first turn of the event loop is every unit's deadline. A new one is
    // made only after a unit stalled (that one has fired).
    let deadline: Promise<typeof STALLED> | null = null;
    for (const it of items) {
      savepoint.run();
      try {
        let value = it.fn();
        if (isThenable(value)) {
          // Store calls settle within microtasks; a unit still pending at the next task of the event loop awaits
          // something else, with the write lock held: it is undone rather than left to block every writer.
          const unit = Promise.resolve(value);
          deadline ??= nextTask();
          value = await Promise.race([unit, deadline]);
          if (value === STALLED) {
            deadline = null;
            unit.catch(() => {});
            throw awaitedOutsideStore();
          }
        }
        release.run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        undo.run();
        release.run();
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
  let attempt = 0;
  // While another connection holds the write lock (a Prisma interactive transaction awaiting between statements),
  // retry after a short wait instead of busy-waiting: that connection needs this event loop to finish.
  async function flush(): Promise<void> {
    const items = queue.take();
    if (!items) return;
    let outcomes: UnitOutcome[];
    try {
      try {
        begin.run();
      } catch (e) {
        if (BUSY.has((e as { code?: string }).code ?? '') && attempt < 2000) {
          queue.requeue(items);
          attempt++;
          // Wall time: it waits on a real lock held by another connection of this process.
          systemClock.setTimeout(
            () => {
              queue.release();
              void flush();
            },
            Math.min(attempt, 20),
          );
          return;
        }
        throw e;
      }
      attempt = 0;
      try {
        running = true;
        try {
          outcomes = await runUnits(items);
        } finally {
          running = false;
        }
        commit.run();
      } catch (e) {
        if (db.inTransaction) rollback.run();
        throw e;
      }
    } catch (e) {
      queue.release();
      for (const it of items) it.reject(e);
      queue.schedule();
      return;
    }
    queue.release();
    if (wal) {
      // Settled once durable; meanwhile the next group may run and commit (its sync starts after this one).
      wal.until(wal.committed()).then(
        () => settle(items, outcomes),
        (e: unknown) => {
          for (const it of items) it.reject(e);
        },
      );
    } else settle(items, outcomes);
    queue.schedule();
  }
  const enqueue = <T>(fn: () => T | Promise<T>, lazy: boolean): Promise<T> => {
    if (running) return Promise.reject(nestedWrite());
    // After a failed WAL sync nothing more is written (it could not be made durable): the write changes nothing.
    if (wal?.failed) return Promise.reject(wal.failed);
    return queue.add(fn, lazy);
  };
  return {
    db,
    stmt,
    write: (fn) => enqueue(fn, false),
    enlist: (fn) => enqueue(fn, true),
    durable: () => wal?.pending() ?? null,
    close: () => {
      db.close();
      wal?.close();
    },
  };
}
