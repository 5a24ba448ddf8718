import type { NonceStore } from '@cpnet/security';
import type { TimeSource } from '@cpnet/kernel';
import type { SqliteConnection } from './connection.ts';
import { sqlTime } from './sql.ts';

/** Signature nonces seen inside the replay window (the table behind the security package's `NonceStore`). */
export interface SeenNonceStore {
  /** True when the nonce is recorded (committed, or written earlier in the current unit of work). */
  has(keyid: string, nonce: string): Promise<boolean>;
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
 * A durable replay store: replay memory survives a restart. A new nonce is held in memory (concurrent replays are
 * refused at once) and its row is enlisted in the next group commit — normally the request's own, so a signed write
 * costs one commit, not two. Rows enlisted before a write commit with it or before it; see the README's
 * "Replay protection across a crash" for why this is as safe as committing the nonce first. Expired rows are swept
 * every 30 s (store time).
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
  /** Nonces accepted here and not yet known to be visible to every check: key → expiresAt. */
  const held = new Map<string, number>();
  /** Committed nonces to drop from `held` once no check that began before their commit is still running. */
  let forget: string[] = [];
  let checking = 0;
  /** The commit each held nonce waits for (the latest try). */
  const commits = new Map<string, Promise<unknown>>();
  const drain = () => {
    if (checking > 0 || forget.length === 0) return;
    for (const k of forget) held.delete(k);
    forget = [];
  };
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
        commits.delete(key);
        forget.push(key);
        drain();
      },
      // The transaction failed: so did every write in it. The nonce is enlisted again (ahead of the next commit, so
      // a later write of its request still commits with it); meanwhile, and after the last try, memory refuses it.
      () => {
        if (tries < RETRIES) void record(key, n, tries + 1).catch(() => undefined);
      },
    );
    return done;
  };
  // The commit is wrapped: an async function returning a promise would wait for it.
  const seen = async (keyid: string, nonce: string, expiresAt: number): Promise<{ done: Promise<unknown> } | null> => {
    const key = keyOf(keyid, nonce);
    if (held.has(key)) return null;
    checking++;
    let known: boolean;
    try {
      known = await db.nonces.has(keyid, nonce);
    } finally {
      checking--;
    }
    // Checked again after the read: a concurrent request may have taken the nonce meanwhile.
    if (known || held.has(key)) {
      drain();
      return null;
    }
    held.set(key, expiresAt);
    drain();
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
