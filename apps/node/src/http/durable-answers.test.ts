import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { StorageFailed } from '../store/wal-sync.ts';
import { answerWhenDurable, DURABLE_ANSWER } from './durable-answers.ts';
import { errorHandler } from './http-error.ts';

describe('answerWhenDurable', () => {
  it('holds an answer while a commit waits for its fsync, answers at once when none does', async () => {
    let pending: { promise: Promise<void>; resolve: () => void } | null = null;
    const app = express();
    answerWhenDurable(app, { durable: () => pending?.promise ?? null }, []);
    app.get('/x', (_req, res) => {
      res.json({ ok: true });
    });
    // An answer that shows only its own request's durable commit (write-route's declared routes) is not held.
    app.get('/own', (_req, res) => {
      res.locals[DURABLE_ANSWER] = true;
      res.json({ own: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    try {
      expect(await (await fetch(url)).json()).toEqual({ ok: true });
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      pending = { promise, resolve };
      let answered = false;
      const answer = fetch(url).then(async (r) => {
        answered = true;
        return (await r.json()) as unknown;
      });
      // 200 ms of wall time: the handler has long since called res.json; the answer must still be held.
      await new Promise((r) => setTimeout(r, 200));
      expect(answered).toBe(false);
      expect(await (await fetch(url.replace(/x$/, 'own'))).json()).toEqual({ own: true });
      expect(answered).toBe(false);
      pending.resolve();
      pending = null;
      expect(await answer).toEqual({ ok: true });
    } finally {
      server.close();
    }
  });

  it('after a failed fsync every answer is a 503 naming the storage failure, showing nothing it prepared', async () => {
    const failed = new StorageFailed('/data/node.db-wal', Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    const app = express();
    answerWhenDurable(app, { durable: () => Promise.reject(failed) }, ['X-Frame-Options', 'x-request-id']);
    app.get('/read', (_req, res) => {
      res.setHeader('x-frame-options', 'DENY');
      res.setHeader('x-request-id', 'r1');
      res.setHeader('etag', '"v1"');
      res.json({ secret: 'a row a power loss could take back' });
    });
    app.post('/write', () => {
      throw failed;
    });
    app.use(errorHandler(pino({ level: 'silent' })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const r of [await fetch(`${base}/read`), await fetch(`${base}/write`, { method: 'POST' })]) {
        expect(r.status).toBe(503);
        expect(r.headers.get('etag')).not.toBe('"v1"');
        if (r.url.endsWith('/read'))
          expect([r.headers.get('x-frame-options'), r.headers.get('x-request-id')]).toEqual(['DENY', 'r1']);
        const body = (await r.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('UNAVAILABLE');
        expect(body.error.message).toMatch(/storage failed \(fdatasync of \/data\/node\.db-wal: EIO.*restarted/);
        expect(JSON.stringify(body)).not.toContain('secret');
      }
    } finally {
      server.close();
    }
  });

  it('holds and replaces an answer that never entered the app (the fast resolve path) the same way', async () => {
    let durable: Promise<void> | null = null;
    const end = answerWhenDurable(express(), { durable: () => durable }, ['x-request-id']);
    const server = createServer((_req, res) => {
      res.setHeader('x-request-id', 'r1');
      res.setHeader('etag', '"v1"');
      res.setHeader('content-type', 'application/json; charset=utf-8');
      end(res, JSON.stringify({ secret: 'a row a power loss could take back' }));
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      expect(await (await fetch(url)).json()).toEqual({ secret: 'a row a power loss could take back' });
      let resolve!: () => void;
      durable = new Promise<void>((r) => (resolve = r));
      let answered = false;
      const held = fetch(url).then((r) => {
        answered = true;
        return r.status;
      });
      // 200 ms of wall time: the answer was ended long since; it must still be held.
      await new Promise((r) => setTimeout(r, 200));
      expect(answered).toBe(false);
      resolve();
      expect(await held).toBe(200);
      durable = Promise.reject(
        new StorageFailed('/data/node.db-wal', Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })),
      );
      durable.catch(() => undefined);
      const r = await fetch(url);
      expect([r.status, r.headers.get('x-request-id'), r.headers.get('etag')]).toEqual([503, 'r1', null]);
      const body = (await r.json()) as { error: { code: string } };
      expect(body.error.code).toBe('UNAVAILABLE');
      expect(JSON.stringify(body)).not.toContain('secret');
    } finally {
      server.close();
    }
  });
});
