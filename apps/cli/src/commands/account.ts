import { join } from 'node:path';
import type { Command } from 'commander';
import { openSqliteStores } from '@cpnet/node';
import { CreateAccount, PersonRole, validate } from '@cpnet/protocol';
import { hashPassword } from '@cpnet/security';
import { environmentFailed, invalidInput, type CliExit } from '../exit.ts';
import type { Io } from '../io.ts';
import { passwordOf, personClient, withPersonOptions, type PersonFlags } from '../acceptance/credentials.ts';

/** Turns a refused client call into the CLI's exit (2 for what the caller did wrong, 3 when unreachable). */
function refused(r: { status: number; error: { message: string; field?: string } }): CliExit {
  const where = r.error.field ? ` (${r.error.field})` : '';
  return r.status === 0 ? environmentFailed(r.error.message) : invalidInput(`${r.error.message}${where}`);
}

type CreateFlags = PersonFlags & { id: string; name: string; role: string; data?: string; newPasswordFile?: string };

/**
 * `cpnet account create | token | list | disable`: people's accounts at a node — operators, reviewers of each stage,
 * acceptance officers, supervisors, experts, tenants and viewers (`--role` takes any PersonRole). A running node is
 * reached with an operator's credential; the first operator is created with `--data <dir>` on a stopped node.
 */
export function registerAccountCommands(program: Command, io: Io): void {
  const account = program.command('account').description("people's accounts at a node: create, token, list, disable");
  withPersonOptions(
    account
      .command('create')
      .description('create an account (any role); --data writes into a stopped node’s database (the first operator)')
      .requiredOption('--id <id>', 'account id: lower-case letters, digits, . _ -')
      .requiredOption('--name <name>', "the person's name")
      .requiredOption('--role <role>', `one of ${PersonRole.options.join(', ')}`)
      .option('--new-password-file <file>', "a file holding the new account's password (default $CPNET_NEW_PASSWORD)")
      .option('--data <dir>', 'a stopped node’s data folder (bootstrap, no node needed)'),
  ).action(async (flags: CreateFlags) => {
    const password = flags.newPasswordFile
      ? passwordOf({ passwordFile: flags.newPasswordFile }, "the new account's password")
      : (process.env.CPNET_NEW_PASSWORD ?? '');
    const body = validate(CreateAccount, { id: flags.id, name: flags.name, role: flags.role, password });
    if (!body.ok) throw invalidInput(body.error.error.message);
    if (flags.data) {
      const db = await openSqliteStores(join(flags.data, 'node.db')).catch((e: unknown) => {
        throw environmentFailed(`cannot open ${flags.data}: ${(e as Error).message}`);
      });
      try {
        if (await db.accounts.byId(flags.id)) throw invalidInput(`account ${flags.id} exists`);
        const passwordHash = await hashPassword(body.value.password);
        await db.accounts.create({ id: flags.id, name: flags.name, role: flags.role, passwordHash });
      } finally {
        await db.close();
      }
      io.out(`created ${flags.role} ${flags.id} in ${flags.data} (the node loads it when it starts)`);
      return;
    }
    const client = await personClient(flags);
    const r = await client.createAccount(body.value);
    if (!r.ok) throw refused(r);
    io.out(`created ${r.value.role} ${r.value.id} at ${flags.node}`);
  });
  withPersonOptions(
    account
      .command('token')
      .description("print an API token: your own (--as), or a viewer's minted with an operator's credential (--viewer)")
      .option('--viewer <account>', 'mint a token for this viewer account (needs an operator --as or --token)')
      .option('--ttl <seconds>', 'lifetime in seconds of the node clock (60–3600)', '3600'),
  ).action(async (flags: PersonFlags & { viewer?: string; ttl: string }) => {
    const ttlSeconds = Number(flags.ttl);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 3600)
      throw invalidInput('--ttl: an integer from 60 to 3600');
    const client = await personClient(flags);
    if (!flags.viewer) {
      const own = client.options.token;
      if (!own) throw invalidInput('no token');
      io.out(own);
      return;
    }
    const r = await client.request<{ token: string }>({
      method: 'POST',
      path: '/cpn/v1/tokens/viewer',
      body: { viewer: flags.viewer, ttlSeconds },
    });
    if (!r.ok) throw refused(r);
    io.out(r.value.token);
  });
  withPersonOptions(account.command('list').description('list the accounts (operators only)')).action(
    async (flags: PersonFlags) => {
      const client = await personClient(flags);
      const r = await client.request<{ items: { id: string; name: string; role: string; status: string }[] }>({
        method: 'GET',
        path: '/cpn/v1/accounts',
      });
      if (!r.ok) throw refused(r);
      for (const a of r.value.items) io.out(`${a.id}\t${a.role}\t${a.status}\t${a.name}`);
    },
  );
  withPersonOptions(
    account
      .command('disable')
      .description('disable an account: its tokens stop working at once (operators only)')
      .requiredOption('--id <id>', 'the account to disable')
      .requiredOption('--reason <text>', 'why (kept in the audit log)'),
  ).action(async (flags: PersonFlags & { id: string; reason: string }) => {
    const client = await personClient(flags);
    const r = await client.request({
      method: 'POST',
      path: `/cpn/v1/accounts/${encodeURIComponent(flags.id)}/disable`,
      body: { reason: flags.reason },
    });
    if (!r.ok) throw refused(r);
    io.out(`disabled ${flags.id}`);
  });
}
