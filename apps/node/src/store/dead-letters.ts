import { existsSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '@cpnet/kernel/system';
import type { DeadLetter } from './outbox.ts';
import { openSqliteStores } from './stores.ts';

/** Opens a data folder's database for an operator command (the node may run: SQLite WAL lets both write). */
async function withStores<T>(dataDir: string, fn: (db: Awaited<ReturnType<typeof openSqliteStores>>) => Promise<T>) {
  const file = path.join(dataDir, 'node.db');
  if (!existsSync(file)) throw new Error(`no node database at ${file}`);
  const db = await openSqliteStores(file);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** The deliveries a peer refused, kept in a data folder's dead letters (`cpnet node outbox list`). */
export function listDeadLetters(dataDir: string): Promise<DeadLetter[]> {
  return withStores(dataDir, (db) => db.outbox.deadLetters());
}

/**
 * Queues dead letters again (all, or the ids given) at the end of the outbox (`cpnet node outbox retry`). A running
 * node sends them at its next delivery, a stopped one when it starts; refused again, they come back here.
 */
// An operator's command on a data folder: the time is the machine's (wall time).
export function retryDeadLetters(dataDir: string, options: { ids?: readonly number[]; now?: number } = {}) {
  return withStores(dataDir, (db) => db.write(() => db.outbox.revive(options.now ?? systemClock.now(), options.ids)));
}
