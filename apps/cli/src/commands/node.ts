import type { Command } from 'commander';
import {
  ApplicationError,
  ConfigError,
  DatabaseDamaged,
  DatabaseNewerThanNode,
  DelegationMismatch,
  KeyPassphraseError,
  NodeIdentityMismatch,
  loadConfig,
  startNode,
} from '@cpnet/node';
import { environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';
import { registerNodeBackupCommands } from './node-backup.ts';

interface StartFlags {
  config?: string;
  role?: string;
  code?: string;
  host?: string;
  port?: string;
  data?: string;
  database?: string;
  parent?: string;
  publicUrl?: string;
  trustAnchor?: string;
  application?: string;
  passphraseFile?: string;
  autoReview?: boolean;
  acceptance?: string;
  logLevel?: string;
  tls?: boolean;
  tlsPort?: string;
  tlsPublicUrl?: string;
}

/** Loads the configuration (file, CPNET_* environment, flags) or throws exit 2 with the reason. */
function configFrom(flags: StartFlags, env: Readonly<Record<string, string | undefined>>) {
  try {
    return loadConfig({
      file: flags.config ?? env.CPNET_CONFIG,
      env,
      // A real deployment's children are accepted (验收) by an officer's decision; simulations and `cpnet check` set automatic.
      defaults: { acceptance: 'authority' },
      flags: {
        role: flags.role,
        code: flags.code,
        host: flags.host,
        port: flags.port,
        dataDir: flags.data,
        database: flags.database,
        parentUrl: flags.parent,
        publicUrl: flags.publicUrl,
        trustAnchor: flags.trustAnchor,
        applicationFile: flags.application,
        passphraseFile: flags.passphraseFile,
        autoReview: flags.autoReview,
        acceptance: flags.acceptance,
        logLevel: flags.logLevel,
        tls:
          flags.tls === undefined && flags.tlsPort === undefined && flags.tlsPublicUrl === undefined
            ? undefined
            : { enabled: flags.tls, port: flags.tlsPort, publicUrl: flags.tlsPublicUrl },
      },
    });
  } catch (e) {
    if (e instanceof ConfigError) throw invalidInput(`invalid node configuration: ${e.message}`);
    throw e;
  }
}

/** `cpnet node start`: runs a national, regional or industry node until SIGINT/SIGTERM. */
export function registerNodeCommands(program: Command, io: Io): void {
  const node = program
    .command('node')
    .description('run a cpnet node (national, regional or industry); back up and restore its database');
  node
    .command('start')
    .description(
      'start a node; a non-national node applies to its parent on first start (--application) and retries while ' +
        'the parent is unreachable',
    )
    .option('--config <file>', 'JSON config file (env CPNET_CONFIG); environment CPNET_* and flags override it')
    .option('--role <role>', 'national | regional | industry (CPNET_ROLE)')
    .option('--code <prefix>', 'the node code = its prefix, e.g. CPN.51.C151 (CPNET_CODE)')
    .option('--host <host>', 'listen address (CPNET_HOST, default 127.0.0.1)')
    .option('--port <port>', 'listen port, 0 for any (CPNET_PORT, default 7000)')
    .option('--data <dir>', 'data folder for the SQLite file (CPNET_DATA)')
    .option(
      '--database <url>',
      'PostgreSQL instead of SQLite: postgres://user:password@host:port/database (CPNET_DATABASE_URL)',
    )
    .option('--parent <url>', 'the parent node URL (CPNET_PARENT)')
    .option('--public-url <url>', 'the endpoint to advertise (CPNET_PUBLIC_URL)')
    .option('--trust-anchor <root-cert.pem>', 'the national root certificate (CPNET_TRUST_ANCHOR)')
    .option('--application <file>', 'the application (申报) JSON (CPNET_APPLICATION)')
    .option(
      '--passphrase-file <file>',
      'passphrase of the private key at rest (CPNET_PASSPHRASE_FILE; CPNET_KEY_PASSPHRASE wins; else a generated ' +
        'development one beside the database)',
    )
    .option('--auto-review', 'decide applications by the rules alone (simulations)')
    .option(
      '--acceptance <mode>',
      'authority (default: an acceptance officer decides 验收) or automatic (rehearsals); env CPNET_ACCEPTANCE',
    )
    .option(
      '--tls',
      "also serve node links over HTTPS with the node certificate and prefer peers' HTTPS endpoints (CPNET_TLS)",
    )
    .option('--tls-port <port>', 'HTTPS listen port, 0 for any (CPNET_TLS_PORT, default 7443)')
    .option('--tls-public-url <url>', 'the HTTPS endpoint to advertise (CPNET_TLS_PUBLIC_URL)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cpnet node start --role national --code CPN --port 7000 --data ./data/cpn\n' +
        '  $ cpnet node start --role regional --code CPN.51 --port 7051 --data ./data/51 --parent http://127.0.0.1:7000 ' +
        '--application ./sc.json\n\nThe national node writes its root certificate to <data>/trust-anchor.pem and prints the path.\n' +
        'Exit codes: 2 a bad configuration value or application file, or none on first start (with the reason); ' +
        '3 the port is in use, the data folder or the --database server is unusable, node.db fails its integrity ' +
        'check or was migrated by a newer version, or the folder held a node its database no longer holds ' +
        '(restore it with cpnet node restore).',
    )
    .action(async (flags: StartFlags) => {
      const config = configFrom(flags, process.env);
      let started: Awaited<ReturnType<typeof startNode>>;
      try {
        started = await startNode(config);
        io.out(`cpnet node ${config.code} (${config.role}) listening on ${started.url}`);
        if (started.trustAnchorFile)
          io.out(
            `trust anchor (national root certificate) for child nodes' --trust-anchor: ${started.trustAnchorFile}`,
          );
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (e instanceof ApplicationError) throw invalidInput(`refusing to start: ${err.message}`);
        if (e instanceof DelegationMismatch) throw invalidInput(`refusing to start: ${err.message}`);
        if (e instanceof KeyPassphraseError) throw invalidInput(`refusing to start: ${err.message}`);
        if (e instanceof DatabaseDamaged || e instanceof DatabaseNewerThanNode || e instanceof NodeIdentityMismatch)
          throw environmentFailed(`refusing to start: ${err.message}`);
        if (err.code === 'EADDRINUSE') throw environmentFailed(`port ${config.port} on ${config.host} is in use`);
        if (err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'ENOTDIR' || err.code === 'EPERM')
          throw environmentFailed(`cannot use ${config.dataDir} or port ${config.port}: ${err.message}`);
        throw environmentFailed(`the node could not start: ${err.message}`);
      }
      // Runs until SIGINT/SIGTERM closes the server (startNode's handler shuts the node down and exits).
      await new Promise<void>((resolve) => started.server.once('close', () => resolve()));
    });
  registerNodeBackupCommands(node, io);
}
