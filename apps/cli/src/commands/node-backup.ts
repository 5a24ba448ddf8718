import type { Command } from 'commander';
import { backupNode, BackupError, restoreNode } from '@cpnet/node';
import { environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';

function mapError(e: unknown): never {
  if (e instanceof BackupError) throw e.kind === 'input' ? invalidInput(e.message) : environmentFailed(e.message);
  throw environmentFailed((e as Error).message);
}

/** `cpnet node backup` and `cpnet node restore`: SQLite online backup of a node's data folder, and its restore. */
export function registerNodeBackupCommands(node: Command, io: Io): void {
  node
    .command('backup')
    .description("copy a node's database with SQLite's online backup (the node may keep running)")
    .requiredOption('--data <dir>', "the node's data folder")
    .requiredOption('--out <file>', 'the backup file to write (must not exist)')
    .addHelpText('after', '\nExample:\n  $ cpnet node backup --data ./data/51 --out ./backups/51-2026-11-26.db')
    .action(async (flags: { data: string; out: string }) => {
      const r = await backupNode({ dataDir: flags.data, out: flags.out }).catch(mapError);
      io.out(`backed up ${r.pages} pages (${r.bytes} bytes) to ${r.file}`);
    });
  node
    .command('restore')
    .description('restore a backup into a data folder; stop the node first, then start it on the folder')
    .requiredOption('--from <file>', 'a backup written by `cpnet node backup`')
    .requiredOption('--data <dir>', 'the data folder to restore into')
    .option('--force', 'replace an existing database (kept as node.db.before-restore-<time>)')
    .addHelpText(
      'after',
      '\nExample:\n  $ cpnet node restore --from ./backups/51-2026-11-26.db --data ./data/51 --force',
    )
    .action(async (flags: { from: string; data: string; force?: boolean }) => {
      const r = await restoreNode({ from: flags.from, dataDir: flags.data, force: flags.force ?? false }).catch(
        mapError,
      );
      io.out(
        `restored ${r.pages} pages (${r.bytes} bytes) into ${r.file}; start the node with the key passphrase it had ` +
          `(CPNET_KEY_PASSPHRASE or --passphrase-file): it is not in the backup`,
      );
    });
}
