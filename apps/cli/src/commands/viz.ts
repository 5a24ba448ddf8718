import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RecordingHeader, Url } from '@cpnet/protocol';
import type { VisualiserServer } from '@cpnet/visualiser';
import { CliExit, environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';

/** Options of `cpnet viz`. */
interface VizOptions {
  live?: string;
  replay?: string;
  token?: string;
  port: string;
  host: string;
}

function checkReplay(file: string): void {
  let text: string;
  try {
    // The header is the first line; reading the first 64 KiB is enough to check it without loading the whole file.
    text = readFileSync(file, { encoding: 'utf8', flag: 'r' }).slice(0, 65_536);
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
  if (opts.replay) checkReplay(opts.replay);
  let server: VisualiserServer;
  try {
    // Loaded here so other commands do not pay for the visualiser's imports.
    const { serveVisualiser } = await import('@cpnet/visualiser');
    server = await serveVisualiser({
      port,
      host: opts.host,
      ...(opts.replay ? { replayFile: opts.replay } : {}),
      ...(opts.live ? { liveUrl: opts.live } : {}),
      ...(opts.token ? { token: opts.token } : {}),
    });
  } catch (e) {
    if (e instanceof CliExit) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE') throw environmentFailed(`port ${port} is in use; choose another with --port`);
    throw environmentFailed(`cannot start the visualiser: ${e instanceof Error ? e.message : String(e)}`);
  }
  io.out(`Visualiser: ${server.url}`);
  io.out(opts.live ? `live from ${opts.live}/monitor` : `replaying ${opts.replay}`);
  try {
    await until(server);
  } finally {
    await server.close();
  }
}

/** `cpnet viz [--live <url> | --replay <file>]`. */
export function registerVizCommands(program: Command, io: Io): void {
  program
    .command('viz')
    .description("serve the D3 visualiser: live from a node's /monitor stream, or replaying a recording")
    .option('--live <url>', "a node's base URL, e.g. http://127.0.0.1:7001")
    .option('--replay <file>', 'a recording (JSON Lines) written by the simulator')
    .option(
      '--token <token>',
      'viewer token for the live /monitor stream (default $CPNET_VIEWER_TOKEN)',
      process.env.CPNET_VIEWER_TOKEN,
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
        opts,
        io,
        () =>
          new Promise<void>((done) => {
            process.once('SIGINT', () => done());
            process.once('SIGTERM', () => done());
          }),
      ),
    );
}
