import type { NonceStore } from '@cpnet/security';
import type { TimeSource } from '@cpnet/kernel';
import type { SqliteConnection } from './connection.ts';
import { sqlTime } from './sql.ts';

/** Signature nonces seen inside the replay window (the table behind the security package's `NonceStore`). */
export interface SeenNonceStore {
  /** True when the nonce is recorded (committed, or written earlier in the current unit of work). */
  has(keyid: string, nonce: string): Promise<boolean>;
  /** The latest `expiresAt` (Unix ms) of any recorded nonce, or null when none is. */
  latestExpiry(): Promise<number | null>;
  /** Records a nonce; false when it was seen before (a replay). */
  add(keyid: string, nonce: string, expiresAt: number): Promise<boolean>;
  /** Forgets nonces that expired before `at`. */
  sweep(at: number): Promise<void>;
}

/** The SQLite nonce table. */
export function sqliteNonceStore({ sql }: SqliteConnection): SeenNonceStore {
  return {
    has: async (keyid, nonce) =>
      sql.stmt('SELECT 1 FROM "SeenNonce" WHERE "keyid" = ? AND "nonce" = ?').get(keyid, nonce) !== undefined,
    async latestExpiry() {
      const row = sql.stmt('SELECT MAX("expiresAt") AS "at" FROM "SeenNonce"').get() as { at: string | null };
      return row.at === null ? null : Date.parse(row.at);
    },
    add: async (keyid, nonce, expiresAt) =>
      sql
        .stmt('INSERT OR IGNORE INTO "SeenNonce" ("keyid", "nonce", "expiresAt") VALUES (?, ?, ?)')
        .run(keyid, nonce, sqlTime(expiresAt)).changes === 1,
    async sweep(at) {
      sql.stmt('DELETE FROM "SeenNonce" WHERE "expiresAt" < ?').run(sqlTime(at));
    },
  };
}

/** The node's replay memory: the security package's `NonceStore`, plus what the node awaits before it answers. */
export interface NodeNonceStore extends NonceStore {
  /**
   * Settles once the nonce is durable (at once when it is; rejects when its commit failed for good). A signed
   * request is answered only after this: a response the client holds always has a durable nonce behind it.
   */
  recorded(keyid: string, nonce: string): Promise<void>;
  /**
   * The same memory, but `seen` settles only after the nonce's commit: for handshakes that open a session (gateway,
   * monitor, child links), whose effect — a connection speaking as the signer — is not a database write.
   */
  readonly committed: NonceStore;
}

const keyOf = (keyid: string, nonce: string) => `${keyid.length}:${keyid}${nonce}`;

/** How many times a nonce whose commit failed is enlisted again before only this process's memory holds it. */
const RETRIES = 3;

/**
 * A durable replay store: replay memory survives a restart. A new nonce is held in memory until it expires (a
 * concurrent or later replay is refused there) and its row is enlisted in the next group commit — normally the
 * request's own, so a signed write costs one commit, not two; see the README's "Replay protection across a crash".
 * The table is read only for a message that a run of the node before this one could have recorded: a replay carries
 * its original's signature parameters, so its `expiresAt` is its row's; one that expires after every row this run
 * found at its start cannot match any of them, and memory holds every nonce this run accepted. Expired rows are swept
 * every 30 s and expired memory every 10 s (store time).
 */
export function durableNonceStore(
  db: {
    write<T>(fn: () => Promise<T>): Promise<T>;
    enlist<T>(fn: () => Promise<T>): Promise<T>;
    readonly nonces: SeenNonceStore;
  },
  clock: TimeSource,
): NodeNonceStore {
  let nextSweep = 0;
  /** Every nonce this run accepted, until it expires: key → expiresAt. */
  const held = new Map<string, number>();
  let nextForget = 0;
  /**
   * The latest expiry of the rows earlier runs left: read once, before this run records any (a failed read is tried
   * again by the next request; nothing is recorded meanwhile).
   */
  let earlier: Promise<number | null> | null = null;
  const earlierRows = (): Promise<number | null> =>
    (earlier ??= db.nonces.latestExpiry().catch((e: unknown) => {
      earlier = null;
      throw e;
    }));
  earlierRows().catch(() => undefined);
  /** The commit each nonce not yet durable waits for (the latest try). */
  const commits = new Map<string, Promise<unknown>>();
  const record = (
    key: string,
    n: { keyid: string; nonce: string; expiresAt: number },
    tries: number,
  ): Promise<unknown> => {
    const now = clock.now();
    const sweep = now >= nextSweep;
    if (sweep) nextSweep = now + 30_000;
    const done = db.enlist(async () => {
      if (sweep) await db.nonces.sweep(now);
      await db.nonces.add(n.keyid, n.nonce, n.expiresAt);
    });
    commits.set(key, done);
    done.then(
      () => {
        if (commits.get(key) === done) commits.delete(key);
      },
      // The transaction failed: so did every write in it. The nonce is enlisted again (ahead of the next commit, so
      // a later write of its request still commits with it); memory refuses it meanwhile and after the last try.
      () => {
        if (tries < RETRIES) void record(key, n, tries + 1).catch(() => undefined);
      },
    );
    return done;
  };
  // The commit is wrapped: an async function returning a promise would wait for it.
  const seen = async (keyid: string, nonce: string, expiresAt: number): Promise<{ done: Promise<unknown> } | null> => {
    const key = keyOf(keyid, nonce);
    const now = clock.now();
    if (now >= nextForget) {
      nextForget = now + 10_000;
      // A message is accepted only until its expiresAt (the verifier's time check): an expired entry guards nothing.
      for (const [k, at] of held) if (at < now) held.delete(k);
    }
    if (held.has(key)) return null;
    const before = await earlierRows();
    if (before !== null && expiresAt <= before) {
      // It may be a replay of a message an earlier run recorded: the table says.
      const known = await db.nonces.has(keyid, nonce);
      // Checked again after the read: a concurrent request may have taken the nonce meanwhile.
      if (known || held.has(key)) return null;
    } else if (held.has(key)) return null;
    held.set(key, expiresAt);
    const done = record(key, { keyid, nonce, expiresAt }, 0);
    done.catch(() => undefined);
    return { done };
  };
  return {
    durable: true,
    async seen(keyid, nonce, expiresAt) {
      return (await seen(keyid, nonce, expiresAt)) === null;
    },
    async recorded(keyid, nonce) {
      const key = keyOf(keyid, nonce);
      // Still waiting for a write to join (the request wrote nothing): an empty unit asks for the commit now.
      if (commits.has(key)) void db.write(async () => undefined).catch(() => undefined);
      for (;;) {
        const done = commits.get(key);
        if (!done) return;
        try {
          await done;
          return;
        } catch (e) {
          // Enlisted again (the failed try's handler ran first): wait for the new try.
          if (commits.get(key) === done) throw e;
        }
      }
    },
    committed: {
      durable: true,
      async seen(keyid, nonce, expiresAt) {
        const fresh = await seen(keyid, nonce, expiresAt);
        if (fresh === null) return true;
        void db.write(async () => undefined).catch(() => undefined);
        await fresh.done;
        return false;
      },
    },
  };
}
