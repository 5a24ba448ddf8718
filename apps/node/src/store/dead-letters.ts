import { existsSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '@cpnet/kernel/system';
import type { DeadLetter, QueuedGroup } from './outbox.ts';
import { openPostgresStores } from './postgres-stores.ts';
import { openSqliteStores, type NodeStores } from './stores.ts';

/** Where an operator command finds a node's database: its data folder (SQLite), or its PostgreSQL URL. */
export interface NodeDatabase {
  /** PostgreSQL (`--database`, CPNET_DATABASE_URL); without it, `node.db` in the data folder. */
  readonly database?: string;
}

/**
 * Opens a node's database for an operator command while the node may run (SQLite WAL lets both write; on
 * PostgreSQL the command is one more client).
 */
async function withStores<T>(dataDir: string, where: NodeDatabase, fn: (db: NodeStores) => Promise<T>) {
  let db: NodeStores;
  if (where.database) db = await openPostgresStores(where.database, { poolSize: 1 });
  else {
    const file = path.join(dataDir, 'node.db');
    if (!existsSync(file))
      throw new Error(`no node database at ${file} (a node on PostgreSQL: give its --database or CPNET_DATABASE_URL)`);
    db = await openSqliteStores(file);
  }
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * A node's outbox as `cpnet node outbox list` shows it, from one open of its database: what it still has to send, by
 * peer and path (a peer whose deliveries show failed attempts is one the running node is backing off from: its
 * `cpn_outbox_peers_backing_off` gauge), then the deliveries a peer refused.
 */
export function readOutbox(
  dataDir: string,
  where: NodeDatabase = {},
): Promise<{ queued: QueuedGroup[]; deadLetters: DeadLetter[] }> {
  return withStores(dataDir, where, async (db) => ({
    queued: await db.outbox.queued(),
    deadLetters: await db.outbox.deadLetters(),
  }));
}

/**
 * Queues dead letters again (all, or the ids given) at the end of the outbox (`cpnet node outbox retry`). A running
 * node sends them at its next delivery, a stopped one when it starts; refused again, they come back here.
 */
// An operator's command on a data folder: the time is the machine's (wall time).
export function retryDeadLetters(
  dataDir: string,
  options: NodeDatabase & { ids?: readonly number[]; now?: number } = {},
) {
  return withStores(dataDir, options, (db) =>
    db.write(() => db.outbox.revive(options.now ?? systemClock.now(), options.ids)),
  );
}
