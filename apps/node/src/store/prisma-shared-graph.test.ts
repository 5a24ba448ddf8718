import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type NodeDatabase } from './sqlite-database.ts';

// patches/@prisma+client+7.10.0.patch (applied by `npm install`'s postinstall, patch-package): Prisma's client engine
// rebuilt its query parameterisation graph — ~2 MiB of heap, the same for every client of one generated schema — in
// each PrismaClient. A simulator thread holds 47 nodes, each with a client: ~100 MiB per thread (bench/README.md,
// "Memory per node"). The patch keeps one per generated schema and thread; the graph is read-only once built.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-prisma-graph-'));
const open: NodeDatabase[] = [];
afterAll(async () => {
  await Promise.all(open.map((d) => d.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('Prisma clients in one thread', () => {
  it('carries the patch (a Prisma upgrade must re-make it: `npx patch-package @prisma/client`)', () => {
    const runtime = createRequire(import.meta.url).resolve('@prisma/client/runtime/client');
    expect(readFileSync(runtime, 'utf8').includes('cpnetGraphs'), `${runtime} is not patched`).toBe(true);
  });

  it('share one parameterisation graph: a client after the first costs well under 1 MiB of heap', async () => {
    const openOne = async (i: number) => {
      const db = await openDatabase(path.join(dir, `n${i}`, 'node.db'), { durability: 'crash' });
      open.push(db);
      // A query builds the engine's compiler and graph; each client answers from its own file.
      await db.prisma.nodeSetting.create({ data: { key: 'k', value: `v${i}` } });
      expect(await db.prisma.nodeSetting.findUnique({ where: { key: 'k' } })).toMatchObject({ value: `v${i}` });
    };
    await openOne(0);
    gc();
    const before = process.memoryUsage().heapUsed;
    const more = 12;
    for (let i = 1; i <= more; i++) await openOne(i);
    gc();
    const perClient = (process.memoryUsage().heapUsed - before) / more / 2 ** 20;
    // Unpatched: ~2 MiB per client; patched: ~0.05 MiB.
    expect(perClient).toBeLessThan(1);
  });
});
