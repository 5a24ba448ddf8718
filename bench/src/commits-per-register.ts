// `strace -f -c -e trace=fsync,fdatasync npx tsx bench/src/commits-per-register.ts <tree> <n>`: starts a national
// node of a source tree (SQLite, synchronous FULL: one WAL sync per commit) and registers `n` identifiers one at a
// time, signed by the node itself. Run with n = 0 and n = N: the difference in fsync/fdatasync calls over N is the
// number of durable commits one registration costs (the nonce, the record, its event).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import { createClient } from '@cpnet/client';
import { cryptoRandomBytes } from '@cpnet/security';
import type { createNode as CreateNode } from '@cpnet/node';

const [tree, nArg] = process.argv.slice(2);
if (!tree) throw new Error('usage: commits-per-register.ts <tree> <n>');
const n = Number(nArg ?? 100);
const createNode = (await import(path.resolve(tree, 'apps/node/src/index.ts'))).createNode as typeof CreateNode;
const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-commits-'));
const node = await createNode(
  { role: 'national', code: 'CPN', port: 0, dataDir: dir },
  { clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes },
);
const url = await node.listen();
const self = createClient({
  baseUrl: url,
  signer: { keyid: 'CPN', privateKey: node.context.identity.keys.privateKey },
});
// Settle start-up writes, then register one at a time, with a pause that lets every queued write commit alone.
await new Promise((r) => setTimeout(r, 1500));
for (let i = 0; i < n; i++) {
  const r = await self.register({ kind: 'JB', values: [{ index: 1, type: 'T', data: { i } }] });
  if (!r.ok) throw new Error(r.error.message);
  await new Promise((r) => setTimeout(r, 5));
}
// Lets a lone enlisted unit (committed after at most 1 s) land before the count ends.
await new Promise((r) => setTimeout(r, 1500));
await node.close();
rmSync(dir, { recursive: true, force: true });
console.log(`${tree}: ${n} registrations`);
