import { readFileSync } from 'node:fs';
import { createClient, type NodeClient } from '@cpnet/client';
import { invalidInput, environmentFailed } from '../exit.ts';

/** How a person reaches a node: its URL and either a token or an account whose password is read from a file or env. */
export interface PersonFlags {
  node?: string;
  token?: string;
  as?: string;
  passwordFile?: string;
}

/** The person's password: --password-file, else $CPNET_PASSWORD (never a command-line argument). */
export function passwordOf(flags: { passwordFile?: string }, what = 'the password'): string {
  if (flags.passwordFile) {
    try {
      return readFileSync(flags.passwordFile, 'utf8').trim();
    } catch (err) {
      throw invalidInput(`--password-file: ${(err as Error).message}`);
    }
  }
  const p = process.env.CPNET_PASSWORD;
  if (!p) throw invalidInput(`${what} is missing: set $CPNET_PASSWORD or give --password-file <file>`);
  return p;
}

/** A client of `--node` with the person's API token (given, or minted from --as and the password). */
export async function personClient(flags: PersonFlags): Promise<NodeClient> {
  if (!flags.node) throw invalidInput('--node <url> is required');
  if (flags.token) return createClient({ baseUrl: flags.node, token: flags.token });
  if (!flags.as)
    throw invalidInput('give --token <token> or --as <account> (password from $CPNET_PASSWORD or --password-file)');
  const t = await createClient({ baseUrl: flags.node }).token({ account: flags.as, password: passwordOf(flags) });
  if (!t.ok) {
    if (t.status === 0) throw environmentFailed(`cannot reach ${flags.node}: ${t.error.message}`);
    throw invalidInput(`--as ${flags.as}: ${t.error.message}`);
  }
  return createClient({ baseUrl: flags.node, token: t.value.token });
}

/** Adds the person options to a command. */
export function withPersonOptions<C extends { option(flags: string, description: string): C }>(cmd: C): C {
  return cmd
    .option('--node <url>', 'the node to talk to')
    .option('--token <token>', 'an API token of your account')
    .option('--as <account>', 'your account (password from $CPNET_PASSWORD or --password-file)')
    .option('--password-file <file>', 'a file holding your password');
}
