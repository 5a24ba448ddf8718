// `npx tsx bench/src/ab-register.ts <tree-a> <tree-b> [rounds] [ms] [concurrency] [postgres]`: registrations per second and
// process CPU per registration of two source trees' nodes (e.g. main's in a second worktree against this one),
// measured in alternating rounds in one process so that load from elsewhere on a shared machine falls on both alike.
// Each round starts a fresh national node of one tree (SQLite, synchronous FULL; or PostgreSQL with `postgres`),
// registers identifiers signed by `concurrency` (default 16) concurrent clients for `ms` of wall time, and closes it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import { createClient } from '@cpnet/client';
import { cryptoRandomBytes } from '@cpnet/security';
import type { createNode as CreateNode } from '@cpnet/node';
import { startTestPostgres } from '@cpnet/node/testing/postgres';

const [a, b, roundsArg, msArg, concurrencyArg, db] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: ab-register.ts <tree-a> <tree-b> [rounds] [ms] [concurrency] [postgres]');
const rounds = Number(roundsArg ?? 6);
const ms = Number(msArg ?? 1500);
const concurrency = Number(concurrencyArg ?? 16);
const trees = [a, b];
const makers = await Promise.all(
  trees.map(async (t) => (await import(path.resolve(t, 'apps/node/src/index.ts'))).createNode as typeof CreateNode),
);
const pgServer = db === 'postgres' ? await startTestPostgres({ durable: true }) : null;
const totals = trees.map(() => ({ n: 0, wallMs: 0, cpuMs: 0 }));
for (let r = 0; r < rounds; r++) {
  for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-ab-'));
    const node = await makers[i]!(
      {
        role: 'national',
        code: 'CPN',
        port: 0,
        dataDir: dir,
        ...(pgServer ? { database: await pgServer.database() } : {}),
      },
      { clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes },
    );
    const url = await node.listen();
    const self = createClient({
      baseUrl: url,
      signer: { keyid: 'CPN', privateKey: node.context.identity.keys.privateKey },
    });
    const once = () => self.register({ kind: 'JB', values: [{ index: 1, type: 'T', data: { n: 1 } }] });
    for (let w = 0; w < 50; w++) await once();
    let n = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + ms;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const res = await once();
          if (!res.ok) throw new Error(res.error.message);
          n++;
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    totals[i]!.n += n;
    totals[i]!.wallMs += performance.now() - t0;
    totals[i]!.cpuMs += (cpu.user + cpu.system) / 1000;
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
await pgServer?.stop();
for (const [i, t] of totals.entries())
  console.log(
    `${trees[i]}: register_per_s ${(t.n / (t.wallMs / 1000)).toFixed(0)}, register_cpu_ms_per_op ` +
      `${(t.cpuMs / t.n).toFixed(3)} (${t.n} registrations)`,
  );
