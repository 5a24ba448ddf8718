// `npx tsx bench/src/profile-register.ts [seconds] [profile-dir]`: a national node in a child process under
// `node --cpu-prof` (`spawnNode` of node-process.ts), registering identifiers signed by 16 concurrent clients in this
// process (the load of `npm run bench -- node`'s `register_per_s`); the node's V8 CPU profile lands in profile-dir
// (default /tmp/cpnet-profile) when the node exits. Summarise it with
// `npx tsx bench/src/cpuprofile-top.ts <dir>/*.cpuprofile`. `CPNET_PROFILE_SYNC_VERIFY=1` checks signatures on the
// event loop (`verifyOffLoop: false`): the profile then shows the loop's whole work, with no thread-pool thread
// taking the core from it mid-function (off the loop, the sampled time of `verifyOneShot` is mostly that wait).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@cpnet/client';
import { spawnNode } from './node-process.ts';

const seconds = Number(process.argv[2] ?? 10);
const dir = process.argv[3] ?? '/tmp/cpnet-profile';
const node = await spawnNode(
  {
    role: 'national',
    code: 'CPN',
    port: 0,
    dataDir: mkdtempSync(path.join(tmpdir(), 'cpnet-prof-')),
    ...(process.env.CPNET_PROFILE_SYNC_VERIFY ? { verifyOffLoop: false } : {}),
  },
  { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] },
);
const c = createClient({ baseUrl: node.url, signer: { keyid: 'CPN', privateKey: node.privateKey } });
let n = 0;
// Wall time: the load runs for `seconds` of the machine's clock.
const end = performance.now() + seconds * 1000;
const cpu0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (performance.now() < end) {
      const r = await c.register({ kind: 'JB', values: [{ index: 1, type: 'T', data: { n: 1 } }] });
      if (!r.ok) throw new Error(r.error.message);
      n++;
    }
  }),
);
const cpu = process.cpuUsage(cpu0);
console.log(
  `${n} registrations in ${seconds} s (${(n / seconds).toFixed(0)}/s, profiled); client CPU ` +
    `${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms each; profile → ${dir}`,
);
await node.close();
