import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { answerWhenDurable } from './durable-answers.ts';
import { sendJson } from './send-json.ts';

describe('sendJson', () => {
  it("answers as Express's json does, without an ETag, through the response's end (held while a commit syncs)", async () => {
    let pending: { promise: Promise<void>; resolve: () => void } | null = null;
    const app = express();
    answerWhenDurable(app, { durable: () => pending?.promise ?? null }, []);
    app.post('/express', (_req, res) => void res.status(201).json({ name: '四川', n: 1 }));
    app.post('/lean', (_req, res) => sendJson(res, 201, { name: '四川', n: 1 }));
    app.post('/empty', (_req, res) => sendJson(res, 204, { ignored: true }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const viaExpress = await fetch(`${base}/express`, { method: 'POST' });
      const lean = await fetch(`${base}/lean`, { method: 'POST' });
      expect(lean.status).toBe(201);
      for (const h of ['content-type', 'content-length'])
        expect([h, lean.headers.get(h)]).toEqual([h, viaExpress.headers.get(h)]);
      expect(viaExpress.headers.get('etag')).not.toBeNull();
      expect(lean.headers.get('etag')).toBeNull();
      expect(await lean.text()).toBe(await viaExpress.text());
      const empty = await fetch(`${base}/empty`, { method: 'POST' });
      expect([empty.status, empty.headers.get('content-type'), await empty.text()]).toEqual([204, null, '']);
      let resolve!: () => void;
      pending = { promise: new Promise<void>((r) => (resolve = r)), resolve };
      let answered = false;
      const held = fetch(`${base}/lean`, { method: 'POST' }).then((r) => {
        answered = true;
        return r.json() as Promise<unknown>;
      });
      // 200 ms of wall time: long after sendJson ran, the answer must still wait for the sync.
      await new Promise((r) => setTimeout(r, 200));
      expect(answered).toBe(false);
      pending.resolve();
      pending = null;
      expect(await held).toEqual({ name: '四川', n: 1 });
    } finally {
      server.close();
    }
  });
});
