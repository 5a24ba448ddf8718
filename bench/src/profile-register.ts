// `npx tsx bench/src/profile-register.ts [seconds] [profile-dir]`: a national node in a child process under
// `node --cpu-prof`, registering identifiers signed by 16 concurrent clients in this process (the load of
// `npm run bench -- node`'s `register_per_s`); the node's V8 CPU profile lands in profile-dir (default
// /tmp/cpnet-profile). Summarise it with `npx tsx bench/src/cpuprofile-top.ts <dir>/*.cpuprofile`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import { createClient } from '@cpnet/client';
import { createNode } from '@cpnet/node';
import { cryptoRandomBytes, ed25519Profile } from '@cpnet/security';

if (process.env.CPNET_PROFILE_CHILD) {
  const node = await createNode(
    { role: 'national', code: 'CPN', port: 0, dataDir: process.env.CPNET_PROFILE_CHILD, logLevel: 'silent' },
    { clock: systemClock, logger: pino({ level: 'silent' }), randomBytes: cryptoRandomBytes },
  );
  const url = await node.listen();
  const key = ed25519Profile.exportPrivateKey(node.context.identity.keys.privateKey);
  process.stdout.write(`${JSON.stringify({ url, key })}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  await node.close();
  process.exit(0);
} else {
  const seconds = Number(process.argv[2] ?? 10);
  const dir = process.argv[3] ?? '/tmp/cpnet-profile';
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', import.meta.filename],
    {
      env: { ...process.env, CPNET_PROFILE_CHILD: mkdtempSync(path.join(tmpdir(), 'cpnet-prof-')) },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const { url, key } = JSON.parse(line.toString()) as { url: string; key: string };
  const c = createClient({ baseUrl: url, signer: { keyid: 'CPN', privateKey: ed25519Profile.importPrivateKey(key) } });
  let n = 0;
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
  child.stdin.end();
  await once(child, 'exit');
}
