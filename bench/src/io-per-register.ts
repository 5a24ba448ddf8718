// `npx tsx bench/src/io-per-register.ts [tree]`: what a registration costs a node in writes — a national node (of
// `tree`, default this one) in a process of its own under the load of `register_per_s` (16 signing clients here),
// 2 s of warm-up then 4 s measured (wall time); prints bytes written (`wchar`, `write_bytes` of /proc/<pid>/io),
// write syscalls and node CPU per registration. It found the savepoints' statement journals spilling to temp files
// (issue 26); `strace -f -y -e trace=pwrite64 -p <node pid>` then says which file each write went to.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@cpnet/client';
import { run } from './node-register.ts';
import { spawnNode } from './node-process.ts';

const tree = process.argv[2];
const dataDir = mkdtempSync(path.join(tmpdir(), 'cpnet-io-'));
const node = await spawnNode({ role: 'national', code: 'CPN', port: 0, dataDir }, tree ? { tree } : {});
const client = createClient({ baseUrl: node.url, signer: { keyid: 'CPN', privateKey: node.privateKey } });

/** The node process's I/O counters (/proc/<pid>/io: rchar, wchar, syscr, syscw, read_bytes, write_bytes…). */
function io(): Record<string, number> {
  const lines = readFileSync(`/proc/${node.pid}/io`, 'utf8').trim().split('\n');
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), Number(l.slice(l.indexOf(':') + 1))]));
}

/** 16 clients registering for `ms` of wall time; how many registrations they made. */
const load = (ms: number) =>
  run(
    async () => {
      const r = await client.register({ kind: 'JB', values: [{ index: 1, type: 'T', data: { n: 1 } }] });
      if (!r.ok) throw new Error(r.error.message);
    },
    ms,
    16,
  );

await load(2000);
const before = io();
const cpu0 = node.cpuMs();
const n = await load(4000);
const after = io();
const per = (k: string) => (after[k]! - before[k]!) / n;
console.log(
  `${n} registrations: ${(per('wchar') / 1024).toFixed(1)} KiB written (wchar), ` +
    `${(per('write_bytes') / 1024).toFixed(1)} KiB to storage (write_bytes), ${per('syscw').toFixed(2)} write ` +
    `syscalls, ${((node.cpuMs() - cpu0) / n).toFixed(3)} ms of node CPU, each`,
);
await node.close();
rmSync(dataDir, { recursive: true, force: true });
