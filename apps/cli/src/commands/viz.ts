import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT, RecordingHeader, Url } from '@cpnet/protocol';
import type { VisualiserServer } from '@cpnet/visualiser';
import { viewerToken, type ViewerCredential } from '@cpnet/client';
import { CliExit, environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';
import { readPipelineCredentials } from './pipeline-credentials.ts';

/** Options of `cpnet viz`. */
interface VizOptions {
  live?: string;
  replay?: string;
  token?: string;
  port: string;
  host: string;
  /** An operator account of the live node whose credential renews the page's viewer token. */
  operator?: string;
  /** The viewer account the operator mints tokens for. */
  viewer?: string;
  /** The operator's password (from $CPNET_OPERATOR_PASSWORD or --password-file). */
  password?: string;
  passwordFile?: string;
  /** A JSON file naming the reviewing accounts the 申报与验收 board reads with (default $CPNET_PIPELINE_CREDENTIALS). */
  pipelineCredentials?: string;
}

/** Seconds of the node's clock a minted viewer token lasts (the node's maximum). */
const VIEWER_TTL_S = 3600;

function operatorPassword(opts: { password?: string; passwordFile?: string }): string {
  if (opts.passwordFile) {
    try {
      return readFileSync(opts.passwordFile, 'utf8').trim();
    } catch (e) {
      throw invalidInput(`--password-file: cannot read ${opts.passwordFile}: ${(e as Error).message}`);
    }
  }
  if (!opts.password)
    throw invalidInput(
      "the operator's password is missing: set $CPNET_OPERATOR_PASSWORD or give --password-file <file>",
    );
  return opts.password;
}

/** The operator credential of `--operator` and `--viewer`, checked (exit 2 naming what is missing). */
function operatorCredential(opts: VizOptions): ViewerCredential {
  if (!opts.operator || !opts.viewer)
    throw invalidInput('give both --operator <account> and --viewer <account> to mint viewer tokens');
  return { kind: 'operator', account: opts.operator, viewer: opts.viewer, password: operatorPassword(opts) };
}

function checkReplay(file: string): void {
  let text: string;
  try {
    // The header is the first line: the first 64 KiB are read to check it, not the whole (possibly huge) file.
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(65_536);
      text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw invalidInput(`--replay: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const first = text.split('\n', 1)[0] ?? '';
  let json: unknown;
  try {
    json = JSON.parse(first);
  } catch {
    throw invalidInput(`--replay: ${file} line 1 is not JSON; expected a cpnet recording header`);
  }
  const header = RecordingHeader.safeParse(json);
  if (!header.success)
    throw invalidInput(
      `--replay: ${file} line 1 is not a cpnet recording header: ${header.error.issues[0]?.path.join('.')} ` +
        `${header.error.issues[0]?.message}`,
    );
}

/** Validates the options, starts the server, prints `Visualiser: <url>` and serves until `until` resolves. */
export async function runViz(
  opts: VizOptions,
  io: Io,
  until: (server: VisualiserServer) => Promise<void>,
): Promise<void> {
  if (opts.live && opts.replay) throw invalidInput('give --live <url> or --replay <file>, not both');
  if (!opts.live && !opts.replay)
    throw invalidInput(
      'no source: give --live <url> or --replay <file>; usage: cpnet viz (--live <url> [--token <token>] | --replay <file>) ' +
        '[--port <port>] [--host <host>]',
    );
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw invalidInput(`--port: "${opts.port}" is not a port; expected an integer 0–65535`);
  if (opts.live && !Url.safeParse(opts.live).success)
    throw invalidInput(`--live: "${opts.live}" is not an http(s) URL; expected e.g. http://127.0.0.1:7001`);
  if (opts.pipelineCredentials && !opts.live) throw invalidInput('--pipeline-credentials needs --live <url>');
  if (opts.replay) checkReplay(opts.replay);
  if ((opts.operator || opts.viewer) && !opts.live) throw invalidInput('--operator and --viewer need --live <url>');
  const reviewing = opts.pipelineCredentials ? readPipelineCredentials(opts.pipelineCredentials) : null;
  const credential = opts.operator || opts.viewer ? operatorCredential(opts) : null;
  // The page's token is renewed with the operator's credential at half its lifetime (the node's clock, wall speed).
  const renew =
    credential && opts.live
      ? async () => {
          const t = await viewerToken(opts.live!, { credential, ttlSeconds: VIEWER_TTL_S });
          return t.ok ? { ok: true as const, token: t.token, renewInMs: (t.expiresIn * 1000) / 2 } : t;
        }
      : undefined;
  let token = opts.token;
  if (renew && !token) {
    const first = await renew();
    if (!first.ok) throw invalidInput(`--operator: no viewer token: ${first.error}`);
    token = first.token;
  }
  let server: VisualiserServer;
  try {
    // Loaded here so other commands do not pay for the visualiser's imports.
    const { serveVisualiser, loginTokens } = await import('@cpnet/visualiser');
    server = await serveVisualiser({
      port,
      host: opts.host,
      ...(opts.replay ? { replayFile: opts.replay } : {}),
      ...(opts.live ? { liveUrl: opts.live } : {}),
      ...(token ? { token } : {}),
      ...(renew ? { renew } : {}),
      ...(reviewing && opts.live ? { pipelineTokens: loginTokens(opts.live, reviewing) } : {}),
    });
  } catch (e) {
    if (e instanceof CliExit) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE') throw environmentFailed(`port ${port} is in use; choose another with --port`);
    throw environmentFailed(`cannot start the visualiser: ${e instanceof Error ? e.message : String(e)}`);
  }
  io.out(`Visualiser: ${server.url}`);
  io.out(opts.live ? `live from ${opts.live}/monitor` : `replaying ${opts.replay}`);
  if (reviewing)
    io.out(
      `the 申报与验收 board reads applications as ${reviewing.applications.account} and acceptance cases as ` +
        `${reviewing.cases.account}, at the live node and each regional node under it`,
    );
  if (credential?.kind === 'operator')
    io.out(
      `the page's viewer token (${credential.viewer}) is renewed with operator ${credential.account}'s credential`,
    );
  try {
    await until(server);
  } finally {
    await server.close();
  }
}

/** `cpnet viz [--live <url> | --replay <file>]`. */
export function registerVizCommands(program: Command, io: Io): void {
  const viz = program
    .command('viz')
    .description("serve the D3 visualiser: live from a node's /monitor stream, or replaying a recording")
    .option('--live <url>', "a node's base URL, e.g. http://127.0.0.1:7001")
    .option(
      '--replay <file>',
      'a recording (JSON Lines) written by the simulator; served by its index (the page reads it in chunks)',
    )
    .option(
      '--token <token>',
      'viewer token for the live /monitor stream (default $CPNET_VIEWER_TOKEN)',
      process.env.CPNET_VIEWER_TOKEN,
    )
    .option('--operator <account>', "an operator account of the live node: renews the page's viewer token")
    .option('--viewer <account>', 'the viewer account the operator mints tokens for')
    .option('--password-file <file>', "a file holding the operator's password (default $CPNET_OPERATOR_PASSWORD)")
    .option(
      '--pipeline-credentials <file>',
      'JSON naming the reviewing accounts of the 申报与验收 board: {"applications":{"account","password"},' +
        '"cases":{"account","password"}} (default $CPNET_PIPELINE_CREDENTIALS)',
      process.env.CPNET_PIPELINE_CREDENTIALS,
    )
    .option('--port <port>', 'port to listen on (0 = any free port)', '5180')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cpnet viz --replay .data/recording.jsonl\n  $ cpnet viz --live http://127.0.0.1:7001 --token $TOKEN --port 0\n\n' +
        'Prints "Visualiser: <url>" and serves until interrupted (Ctrl-C).\n' +
        'Exit codes: 2 no source, invalid options or recording header, 3 port in use.',
    )
    .action((opts: VizOptions) =>
      runViz(
        { ...opts, password: process.env.CPNET_OPERATOR_PASSWORD },
        io,
        () =>
          new Promise<void>((done) => {
            process.once('SIGINT', () => done());
            process.once('SIGTERM', () => done());
          }),
      ),
    );
  registerVizTokenCommand(viz, io);
}

/** `cpnet viz token`: mints a viewer token at a node with an operator's credential and prints it. */
export async function runVizToken(
  opts: { node: string; operator?: string; viewer?: string; ttl: string; password?: string; passwordFile?: string },
  io: Io,
): Promise<void> {
  if (!Url.safeParse(opts.node).success)
    throw invalidInput(`--node: "${opts.node}" is not an http(s) URL; expected e.g. http://127.0.0.1:7001`);
  const ttl = Number(opts.ttl);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > VIEWER_TTL_S)
    throw invalidInput(`--ttl: "${opts.ttl}" is not a lifetime; expected whole seconds from 60 to ${VIEWER_TTL_S}`);
  const credential = operatorCredential({ port: '0', host: '', ...opts });
  const t = await viewerToken(opts.node, { credential, ttlSeconds: ttl }).catch((e: unknown) => ({
    ok: false as const,
    error: `${opts.node} did not answer: ${e instanceof Error ? e.message : String(e)}`,
  }));
  if (!t.ok) throw new CliExit(EXIT.CHECK_FAILED, `no viewer token: ${t.error}`);
  io.out(t.token);
}

/** `cpnet viz token --node <url> --operator <account> --viewer <account>`. */
export function registerVizTokenCommand(viz: Command, io: Io): void {
  viz
    .command('token')
    .description("mint a viewer token at a node with an operator's credential (prints the token)")
    .requiredOption('--node <url>', "the node's base URL, e.g. http://127.0.0.1:7001")
    .option('--operator <account>', 'an operator account of that node')
    .option('--viewer <account>', 'the viewer account to mint a token for')
    .option('--password-file <file>', "a file holding the operator's password (default $CPNET_OPERATOR_PASSWORD)")
    .option('--ttl <seconds>', "lifetime in seconds of the node's clock", String(VIEWER_TTL_S))
    .addHelpText(
      'after',
      '\nExample:\n  $ CPNET_OPERATOR_PASSWORD=… cpnet viz token --node http://127.0.0.1:7001 --operator ops --viewer wall\n\n' +
        'Exit codes: 2 invalid options or missing password, 1 the node refused (wrong password, not a viewer).',
    )
    // `--operator`, `--viewer` and `--password-file` are also options of `viz`, which parses them first.
    .action((_opts: unknown, cmd: Command) =>
      runVizToken(
        {
          ...(cmd.optsWithGlobals() as {
            node: string;
            operator?: string;
            viewer?: string;
            ttl: string;
            passwordFile?: string;
          }),
          password: process.env.CPNET_OPERATOR_PASSWORD,
        },
        io,
      ),
    );
}
