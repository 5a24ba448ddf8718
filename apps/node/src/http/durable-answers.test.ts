import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { answerWhenDurable, DURABLE_ANSWER } from './durable-answers.ts';

describe('answerWhenDurable', () => {
  it('holds an answer while a commit waits for its fsync, answers at once when none does', async () => {
    let pending: { promise: Promise<void>; resolve: () => void } | null = null;
    const app = express();
    answerWhenDurable(app, { durable: () => pending?.promise ?? null });
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
});
