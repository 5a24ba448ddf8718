// Durability of a SQLite WAL connection without blocking the event loop: commits run with synchronous=NORMAL (no
// fsync inside COMMIT) and this syncs the WAL file on libuv's thread pool afterwards; a commit's units are settled
// only once a sync that began after it has finished (issue 26, see sql.ts and apps/node/README.md "Durability").
import { closeSync, fdatasync, openSync } from 'node:fs';

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
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

  /** `walFile`: the database file's path plus `-wal`; opened at the first sync (SQLite creates it). */
  constructor(private readonly walFile: string) {}

  /** Records that a transaction has just committed; returns its number. */
  committed(): number {
    return ++this.#committed;
  }

  /** Settles once commit `seq` (and every earlier one) is durable; fails with the sync's error if the sync failed. */
  until(seq: number): Promise<void> {
    if (seq <= this.#durable) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ seq, resolve, reject });
      this.#kick();
    });
  }

  /** A promise of every commit made so far being durable; null when they already are (the common idle case). */
  pending(): Promise<void> | null {
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
    if (this.#syncing >= MAX_SYNCS || this.#waiters.length === 0 || this.#covering >= this.#committed) return;
    const target = this.#committed;
    this.#syncing++;
    this.#covering = target;
    const done = (error: unknown) => {
      this.#syncing--;
      // A failed sync fails every commit it was to cover (their writes may not be on disk), as a failed fsync inside
      // COMMIT would; later commits get a sync of their own.
      this.#durable = Math.max(this.#durable, target);
      const now = this.#waiters.filter((w) => w.seq <= target);
      this.#waiters = this.#waiters.filter((w) => w.seq > target);
      for (const w of now) {
        if (error) w.reject(error);
        else w.resolve();
      }
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
    fdatasync(this.#fd, (e) => done(e));
  }
}
