// `npx tsx bench/src/ab-jws.ts <tree-a> <tree-b> [rounds] [n]`: CPU time per compact JWS verification and signature
// (Ed25519) of two source trees' @cpnet/security (e.g. main's jose/WebCrypto path against node:crypto), in
// alternating rounds in one process so that load from elsewhere on a shared machine falls on both alike. Each tree
// verifies a token it signed itself (a signed resolution answer's size), `n` times a round, awaited one by one as
// the node does.
import path from 'node:path';
import type * as Security from '@cpnet/security';

const [a, b, roundsArg, nArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: ab-jws.ts <tree-a> <tree-b> [rounds] [n]');
const rounds = Number(roundsArg ?? 8);
const n = Number(nArg ?? 2000);
const trees = [a, b];
const libs = await Promise.all(
  trees.map(async (t) => (await import(path.resolve(t, 'packages/security/src/index.ts'))) as typeof Security),
);
const payload = new TextEncoder().encode(JSON.stringify({ id: 'CPN.51/SV-1', values: 'x'.repeat(400), at: 1 }));
const setups = await Promise.all(
  libs.map(async (lib) => {
    const keys = lib.generateKeyPair({ randomBytes: lib.cryptoRandomBytes });
    const token = await lib.signCompact(payload, { typ: 'cpn-answer+jwt', kid: 'CPN.51' }, keys.privateKey);
    return { lib, keys, token };
  }),
);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const totals = trees.map(() => ({ verify: 0, sign: 0 }));
for (let r = 0; r < rounds; r++) {
  for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
    const { lib, keys, token } = setups[i]!;
    let t0 = cpuMs();
    for (let k = 0; k < n; k++) {
      const v = await lib.verifyCompact(token, keys.publicKey, 'cpn-answer+jwt');
      if (!v.ok) throw new Error(v.error);
    }
    totals[i]!.verify += cpuMs() - t0;
    t0 = cpuMs();
    for (let k = 0; k < n; k++) await lib.signCompact(payload, { typ: 'cpn-answer+jwt' }, keys.privateKey);
    totals[i]!.sign += cpuMs() - t0;
  }
}
for (const [i, t] of totals.entries())
  console.log(
    `${trees[i]}: jws_verify_us ${((t.verify / (rounds * n)) * 1000).toFixed(1)}, jws_sign_us ` +
      `${((t.sign / (rounds * n)) * 1000).toFixed(1)} (CPU time, ${rounds} × ${n})`,
  );
