import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express, { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oneRouter } from './route-table.ts';

// The node's route tables as one router: the same answers, in the same order of precedence, as the routers mounted
// one after another — on a real Express app on loopback.
let base = '';
let close: () => Promise<void>;

beforeAll(async () => {
  const first = Router();
  first.get('/a/:x', (req, res) => void res.json({ by: 'first', x: req.params.x }));
  first.post('/p', (_req, res) => void res.status(201).json({ by: 'first' }));
  const second = Router();
  second.get('/a/b', (_req, res) => void res.json({ by: 'second' }));
  second.get('/b', (req, res) => void res.json({ by: 'second', route: (req.route as { path: string }).path }));
  const tenth = Array.from({ length: 8 }, (_, i) => {
    const r = Router();
    r.get(`/r${i}`, (_req, res) => void res.json({ by: `r${i}` }));
    return r;
  });
  const app = express();
  app.use(oneRouter([first, second, ...tenth]));
  app.use((_req, res) => void res.status(404).json({ by: 'not found' }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((r) => server.close(() => r()));
});
afterAll(() => close());

const get = async (path: string, method = 'GET') => {
  const res = await fetch(base + path, { method });
  return [res.status, await res.json()] as const;
};

describe('oneRouter', () => {
  it('answers as the routers one after another would: the first match wins, the rest fall through', async () => {
    expect(await get('/a/b')).toEqual([200, { by: 'first', x: 'b' }]);
    expect(await get('/b')).toEqual([200, { by: 'second', route: '/b' }]);
    expect(await get('/r7')).toEqual([200, { by: 'r7' }]);
    expect(await get('/p', 'POST')).toEqual([201, { by: 'first' }]);
    expect(await get('/p')).toEqual([404, { by: 'not found' }]);
    expect(await get('/nowhere')).toEqual([404, { by: 'not found' }]);
  });
});
