import type { Command } from 'commander';
import { backupNode, BackupError, readOutbox, redactUrl, restoreNode, retryDeadLetters } from '@cpnet/node';
import { environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';

function mapError(e: unknown): never {
  if (e instanceof BackupError) throw e.kind === 'input' ? invalidInput(e.message) : environmentFailed(e.message);
  throw environmentFailed((e as Error).message);
}

/** The node's PostgreSQL URL (`--database`, else CPNET_DATABASE_URL), checked; undefined for a node on SQLite. */
function databaseOf(flag: string | undefined): string | undefined {
  const url = flag ?? process.env['CPNET_DATABASE_URL'];
  if (url === undefined || url === '') return undefined;
  const u = URL.canParse(url) ? new URL(url) : null;
  if (!u || !/^postgres(ql)?:$/.test(u.protocol) || u.hostname === '')
    throw invalidInput('--database (CPNET_DATABASE_URL) must be a postgres://user:password@host:port/database URL');
  return url;
}

const DATABASE_HELP =
  "the node's PostgreSQL database, postgres://… (env CPNET_DATABASE_URL); without it, node.db in --data";

/**
 * `cpnet node backup|restore` copy a SQLite file; a node on PostgreSQL is backed up by the operator's PostgreSQL
 * tools. Refuses (exit 2) with the command to run, the URL's password hidden (pg_dump reads it from PGPASSWORD or
 * ~/.pgpass).
 */
function refusePostgres(command: 'backup' | 'restore', url: string, file: string): never {
  const db = `'${redactUrl(url).replace(/:\*\*\*@/, '@')}'`;
  const how =
    command === 'backup'
      ? `pg_dump --format=custom --no-owner --file=${file} --dbname=${db}`
      : `pg_restore --no-owner --exit-on-error --dbname=${db} ${file}   (into an empty database: createdb first; ` +
        'stop the node, then start it on the restored database with the key passphrase it had)';
  throw invalidInput(
    `cpnet node ${command} copies a SQLite node.db; this node runs on PostgreSQL (${redactUrl(url)}): ` +
      `${command === 'backup' ? 'back it up with pg_dump' : 'restore it with pg_restore'} ` +
      `(password from PGPASSWORD or ~/.pgpass):\n  ${how}`,
  );
}

/** `cpnet node backup` and `cpnet node restore`: SQLite online backup of a node's data folder, and its restore. */
export function registerNodeBackupCommands(node: Command, io: Io): void {
  node
    .command('backup')
    .description("copy a node's database with SQLite's online backup (the node may keep running)")
    .requiredOption('--data <dir>', "the node's data folder")
    .requiredOption('--out <file>', 'the backup file to write (must not exist)')
    .option('--database <url>', `${DATABASE_HELP}: refused, with the pg_dump command to run instead`)
    .addHelpText('after', '\nExample:\n  $ cpnet node backup --data ./data/51 --out ./backups/51-2026-11-26.db')
    .action(async (flags: { data: string; out: string; database?: string }) => {
      const database = databaseOf(flags.database);
      if (database) refusePostgres('backup', database, flags.out);
      const r = await backupNode({ dataDir: flags.data, out: flags.out }).catch(mapError);
      io.out(`backed up ${r.pages} pages (${r.bytes} bytes) to ${r.file}`);
    });
  node
    .command('restore')
    .description('restore a backup into a data folder; stop the node first, then start it on the folder')
    .requiredOption('--from <file>', 'a backup written by `cpnet node backup`')
    .requiredOption('--data <dir>', 'the data folder to restore into')
    .option('--force', 'replace an existing database (kept as node.db.before-restore-<time>)')
    .option('--database <url>', `${DATABASE_HELP}: refused, with the pg_restore command to run instead`)
    .addHelpText(
      'after',
      '\nExample:\n  $ cpnet node restore --from ./backups/51-2026-11-26.db --data ./data/51 --force',
    )
    .action(async (flags: { from: string; data: string; force?: boolean; database?: string }) => {
      const database = databaseOf(flags.database);
      if (database) refusePostgres('restore', database, flags.from);
      const r = await restoreNode({ from: flags.from, dataDir: flags.data, force: flags.force ?? false }).catch(
        mapError,
      );
      io.out(
        `restored ${r.pages} pages (${r.bytes} bytes) into ${r.file}; start the node with the key passphrase it had ` +
          `(CPNET_KEY_PASSPHRASE or --passphrase-file): it is not in the backup`,
      );
    });
  const outbox = node
    .command('outbox')
    .description(
      "what the node still has to send, by peer, and the deliveries a peer refused (the outbox's dead letters): list " +
        'them, retry the refused ones once the cause is fixed',
    );
  outbox
    .command('list')
    .description(
      'list what waits, by peer and path (count, failed attempts, queued since), then the dead letters: id, path, ' +
        "endpoint, the peer's answer",
    )
    .requiredOption('--data <dir>', "the node's data folder")
    .option('--database <url>', DATABASE_HELP)
    .addHelpText(
      'after',
      '\nA peer whose deliveries show failed attempts is one the running node backs off from and retries ' +
        '(its /metrics: cpn_outbox_peers_backing_off).\n\nExample:\n  $ cpnet node outbox list --data ./data/51',
    )
    .action(async (flags: { data: string; database?: string }) => {
      const database = databaseOf(flags.database);
      const { queued, deadLetters: letters } = await readOutbox(flags.data, database ? { database } : {}).catch(
        mapError,
      );
      let waiting = 0;
      for (const q of queued) {
        waiting += q.count;
        const tried = q.attempts > 0 ? `, failing: ${q.attempts} failed attempt${q.attempts === 1 ? '' : 's'}` : '';
        io.out(`queued\t${q.endpoint}\t${q.path}\t${q.count} since ${q.since}${tried}`);
      }
      const peers = new Set(queued.map((q) => q.endpoint)).size;
      io.out(`${waiting} deliver${waiting === 1 ? 'y' : 'ies'} queued for ${peers} peer${peers === 1 ? '' : 's'}`);
      for (const l of letters) {
        const answer = l.answer as { code?: string; message?: string; field?: string } | null;
        io.out(
          `${l.id}\t${l.failedAt}\t${l.delivery.path}\t${l.delivery.endpoint}\t${l.status} ` +
            `${answer?.code ?? ''}${answer?.field ? ` ${answer.field}` : ''}: ${answer?.message ?? ''}`,
        );
      }
      io.out(`${letters.length} dead letter${letters.length === 1 ? '' : 's'}`);
    });
  outbox
    .command('retry')
    .description('queue dead letters again (all, or --id); a refused one comes back to the dead letters')
    .requiredOption('--data <dir>', "the node's data folder")
    .option('--id <ids...>', 'only these dead letters')
    .option('--database <url>', DATABASE_HELP)
    .addHelpText('after', '\nExample:\n  $ cpnet node outbox retry --data ./data/51 --id 3 4')
    .action(async (flags: { data: string; id?: string[]; database?: string }) => {
      const database = databaseOf(flags.database);
      const ids = flags.id?.map((x) => {
        const n = Number(x);
        if (!Number.isInteger(n) || n < 1)
          throw invalidInput(`--id ${x}: expected a dead letter id (a positive integer)`);
        return n;
      });
      const n = await retryDeadLetters(flags.data, {
        ...(ids ? { ids } : {}),
        ...(database ? { database } : {}),
      }).catch(mapError);
      io.out(`queued ${n} dead letter${n === 1 ? '' : 's'} again; the node sends them at its next delivery or start`);
    });
}
