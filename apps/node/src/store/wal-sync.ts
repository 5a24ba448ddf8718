// Durability of a SQLite WAL connection without blocking the event loop: commits run with synchronous=NORMAL (no
// fsync inside COMMIT) and this syncs the WAL file on libuv's thread pool afterwards; a commit's units are settled
// only once a sync that began after it has finished (issue 26, see sql.ts and apps/node/README.md "Durability").
import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * The WAL could not be synced. What was committed since the last good sync may not be on disk, and Linux may have
 * dropped the failed pages from its cache (a later `fdatasync` could then succeed without them), so no later sync can
 * be trusted: the store refuses every write and every durability wait from then on until the node is restarted and
 * SQLite recovers from what the disk holds (PostgreSQL stops for the same reason). The node answers 503.
 */
export class StorageFailed extends Error {
  readonly code = 'STORAGE_FAILED';
  constructor(file: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`the node's storage failed (fdatasync of ${file}: ${why}); it accepts nothing more until it is restarted`, {
      cause,
    });
  }
}

/** How many `fdatasync` calls may run at once (of libuv's four thread-pool threads). */
const MAX_SYNCS = 2;

/**
 * Syncs one WAL file. `committed()` numbers a commit just made; `until(seq)` settles once that commit is on stable
 * storage. An `fdatasync` covers every commit made before it began (Linux flushes every dirty page of the file,
 * whichever call wrote it), so when any sync for commit T finishes, every commit up to T is durable. A sync starts as
 * soon as a commit waits for one, up to `MAX_SYNCS` at once: a commit made while one runs does not wait for it to end
 * before its own begins (that would make an answer wait up to two fsyncs); commits made while `MAX_SYNCS` run share
 * the next (a group commit of durability, as the group commit of transactions above it).
 */
export class WalSync {
  #fd: number | null = null;
  #committed = 0;
  #durable = 0;
  /** Syncs running, and the highest commit the newest of them covers. */
  #syncing = 0;
  #covering = 0;
  #closed = false;
  #waiters: Waiter[] = [];
  #failed: StorageFailed | null = null;

  /** `walFile`: the database file's path plus `-wal`; opened at the first sync (SQLite creates it). */
  constructor(private readonly walFile: string) {}

  /** Set once a sync failed (sticky, see `StorageFailed`). */
  get failed(): StorageFailed | null {
    return this.#failed;
  }

  /** Records that a transaction has just committed; returns its number. */
  committed(): number {
    return ++this.#committed;
  }

  /** Settles once commit `seq` (and every earlier one) is durable; fails with the sync's error if the sync failed. */
  until(seq: number): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (seq <= this.#durable) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ seq, resolve, reject });
      this.#kick();
    });
  }

  /** A promise of every commit made so far being durable; null when they already are (the common idle case). */
  pending(): Promise<void> | null {
    if (this.#failed) return Promise.reject(this.#failed);
    return this.#durable >= this.#committed ? null : this.until(this.#committed);
  }

  /** Closes the WAL's descriptor once the syncs asked for have run. */
  close(): void {
    this.#closed = true;
    this.#release();
  }

  #release(): void {
    if (this.#closed && this.#syncing === 0 && this.#waiters.length === 0 && this.#fd !== null) {
      closeSync(this.#fd);
      this.#fd = null;
    }
  }

  #kick(): void {
    if (this.#failed) return;
    if (this.#syncing >= MAX_SYNCS || this.#waiters.length === 0 || this.#covering >= this.#committed) return;
    const target = this.#committed;
    this.#syncing++;
    this.#covering = target;
    const done = (error: unknown) => {
      this.#syncing--;
      if (error || this.#failed) {
        // Every waiter fails, not only the commits this sync covered: no later sync can be trusted (`StorageFailed`).
        this.#failed ??= new StorageFailed(this.walFile, error);
        const all = this.#waiters;
        this.#waiters = [];
        for (const w of all) w.reject(this.#failed);
        this.#release();
        return;
      }
      this.#durable = Math.max(this.#durable, target);
      const now = this.#waiters.filter((w) => w.seq <= target);
      this.#waiters = this.#waiters.filter((w) => w.seq > target);
      for (const w of now) w.resolve();
      this.#kick();
      this.#release();
    };
    try {
      // Read-only is enough: fdatasync flushes the file (inode), whichever descriptor wrote it.
      this.#fd ??= openSync(this.walFile, 'r');
    } catch (e) {
      done(e);
      return;
    }
    fdatasync(this.#fd, (e) => done(e ?? this.#unlinked()));
  }

  /**
   * A WAL file removed while the node holds it open (an operator's mistake, a cleanup script, a failing disk
   * remounted) still takes SQLite's writes and this sync, but a restart would not find it: its commits would survive
   * neither a crash nor a power loss. So a sync of an unlinked WAL fails like a failed `fdatasync` (`StorageFailed`).
   * One `fstat` per sync, on the event loop: no disk access (the inode is in memory), about a microsecond. Not
   * checked once closing (SQLite removes the WAL when its last connection closes).
   */
  #unlinked(): Error | null {
    if (this.#closed || this.#fd === null) return null;
    try {
      if (fstatSync(this.#fd).nlink > 0) return null;
    } catch (e) {
      return e as Error;
    }
    return Object.assign(new Error('ENOENT: the file was removed while the node had it open'), { code: 'ENOENT' });
  }
}
