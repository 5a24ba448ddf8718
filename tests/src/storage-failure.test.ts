// Issue 26: a whole node whose disk fails, end to end. The WAL file of a running node on SQLite (durability
// `power-loss`, the default) is removed — a real failure, no mock: the node's own fsync of it then finds it unlinked
// (`WalSync`, `StorageFailed`). From then on it answers 503 `UNAVAILABLE` naming the file, accepts nothing, logs one
// `fatal` line, and a restart on the same data folder serves what was committed before. Wall time: about 1 s for
// the case (two node starts, eight requests; no polling), 3-6 s for the file with its imports.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, startTestNode, tempDir, testDatabase, type TestNode } from './nodes.ts';

const running: TestNode[] = [];
afterAll(async () => {
  for (const n of running.reverse()) await n.stop().catch(() => undefined);
  cleanup();
});

/** A logger at level `warn` whose lines are kept, parsed. */
function capturedLog() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as (typeof lines)[0]);
      done();
    },
  });
  return { lines, logger: pino({ level: 'warn' }, stream) };
}

const identifier = (n: number) => ({
  kind: 'SV' as const,
  values: [{ index: 1, type: 'URL', data: `https://e${n}.cn` }],
});

describe.skipIf(testDatabase() === 'postgres')(
  'a running node whose disk fails (SQLite, durability power-loss)',
  () => {
    it('answers 503 UNAVAILABLE naming the WAL file, changes nothing, logs one fatal line, and restarts', async () => {
      const dir = tempDir();
      const log = capturedLog();
      const node = await startTestNode({ role: 'national', code: 'CPN', dataDir: dir, logger: log.logger });
      running.push(node);
      expect(node.node.context.config.durability).toBe('power-loss');
      const before = await node.self.register(identifier(1));
      expect(before.ok).toBe(true);
      const kept = before.ok ? before.value.id : '';

      // The disk fails: the WAL goes while SQLite and the node's fsync hold it open (they keep writing to the inode).
      rmSync(path.join(dir, 'node.db-wal'));
      const refusals = [await node.self.register(identifier(2)), await node.self.register(identifier(3))];
      for (const r of refusals) {
        expect(r.ok).toBe(false);
        if (r.ok) continue;
        expect(r.status).toBe(503);
        expect(r.error.code).toBe('UNAVAILABLE');
        expect(r.error.message).toMatch(/storage failed \(fdatasync of .*node\.db-wal: ENOENT.*restarted/);
        expect(JSON.stringify(r.error)).not.toMatch(/\n\s+at |\.ts:\d+/); // no stack trace
      }
      // Reads are refused too: any answer could show a row that is not on the disk (durable-answers.ts), and a load
      // balancer's health check sees the node is out of service.
      const health = await fetch(`${node.url}/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');
      const resolved = await node.anon.resolve(kept);
      expect(resolved.ok ? 200 : [resolved.status, resolved.error.code]).toEqual([503, 'UNAVAILABLE']);
      // One fatal line, however many requests were refused.
      const fatal = log.lines.filter((l) => l.level === 60);
      expect(fatal.map((l) => l.msg)).toEqual(['storage failed: restart the node']);
      expect(log.lines.filter((l) => l.level >= 50 && l.level < 60)).toEqual([]); // no 500 logged as 'request failed'

      await node.stop();
      running.pop();
      const again = await startTestNode({ role: 'national', code: 'CPN', dataDir: dir });
      running.push(again);
      const back = await again.anon.resolve(kept);
      expect(back.ok).toBe(true);
      const list = await again.anon.list({ prefix: 'CPN', limit: 100 });
      const urls = list.ok ? list.value.items.map((x) => JSON.stringify(x)).join() : '';
      // The second refused write never ran (the store refuses every write after the failure). The first had committed
      // before its sync failed; the graceful stop checkpointed the removed WAL into node.db, so it is there: a 503 says
      // "not acknowledged", not "undone".
      expect(urls).not.toContain('e3.cn');
      expect(urls).toContain('e2.cn');
      const after = await again.self.register(identifier(4));
      expect(after.ok).toBe(true);
    }, 60_000);
  },
);
