import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startTestNode, type TestNode } from './nodes.ts';

let n: TestNode;
beforeAll(async () => {
  n = await startTestNode({ role: 'national', code: 'CPN' });
});
afterAll(async () => {
  await n.stop();
  cleanup();
});

/** Every GET route that reads a query string, with its parameters and whether it needs a caller. */
const ROUTES: { path: string; params: string[]; signed?: boolean }[] = [
  { path: '/cpn/v1/identifiers', params: ['prefix', 'cursor', 'limit'] },
  { path: '/cpn/v1/events', params: ['since', 'type', 'cursor', 'limit'] },
  { path: '/cpn/v1/events/export', params: ['since', 'until', 'type'] },
  { path: '/cpn/v1/clusters', params: ['provider'] },
  { path: '/cpn/v1/market', params: ['province', 'resourceClass', 'accelerator', 'maxPricePerCoreHourYuan'] },
  { path: '/cpn/v1/jobs', params: ['tenant', 'cursor', 'limit'], signed: true },
  { path: '/cpn/v1/metering', params: ['tenant', 'provider', 'from', 'to'], signed: true },
  { path: '/cpn/v1/audit/head', params: ['anything'] },
];

/** Hostile values: huge, negative, non-numeric, fractional, empty, repeated (an array), nested (an object). */
const HOSTILE = [
  (p: string) => `${p}=${'9'.repeat(23)}`,
  (p: string) => `${p}=1e308`,
  (p: string) => `${p}=-1`,
  (p: string) => `${p}=abc`,
  (p: string) => `${p}=1.5`,
  (p: string) => `${p}=`,
  (p: string) => `${p}=1&${p}=2`,
  (p: string) => `${p}[a]=1`,
  (p: string) => `${p}=${'x'.repeat(5000)}`,
  (p: string) => `${p}=%00`,
  (p: string) => `${p}=9999-12-31T23:59:59Z`,
  (p: string) => `${p}=NaN`,
];

const cases = ROUTES.flatMap((r) =>
  r.params.flatMap((p) => HOSTILE.map((h) => ({ signed: r.signed ?? false, url: `${r.path}?${h(p)}` }))),
);

describe('query parameters', () => {
  it('GET /cpn/v1/events?cursor=<23 digits> is 400 naming cursor, not 500', async () => {
    const res = await fetch(`${n.url}/cpn/v1/events?cursor=${'1'.repeat(23)}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; field?: string } };
    expect(body.error).toMatchObject({ code: 'SCHEMA_VIOLATION', field: 'cursor' });
  });

  it('a repeated parameter (an array) is 400 naming it', async () => {
    const res = await fetch(`${n.url}/cpn/v1/events?limit=1&limit=2`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field?: string } }).error.field).toBe('limit');
    const clusters = await fetch(`${n.url}/cpn/v1/clusters?provider=a&provider=b`);
    expect(clusters.status).toBe(400);
    expect(((await clusters.json()) as { error: { field?: string } }).error.field).toBe('provider');
  });

  it('a query string over the 16 KiB header limit gets 431 with the error body, not a bare status', async () => {
    const res = await fetch(`${n.url}/cpn/v1/events?x=${'x'.repeat(70_000)}`);
    expect(res.status).toBe(431);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HEADERS_TOO_LARGE');
  });

  it(`hostile values to every parameter of every GET route: never 5xx (${cases.length} requests)`, async () => {
    const fivexx: string[] = [];
    for (const c of cases) {
      const r = c.signed
        ? await n.self.request({ method: 'GET', path: c.url, sign: true })
        : await fetch(n.url + c.url).then(async (res) => ({ status: res.status, text: await res.text() }));
      if (r.status >= 500) fivexx.push(`${c.url.slice(0, 120)} → ${r.status}`);
      else if ('ok' in r && !r.ok) expect(r.error.code, c.url).toMatch(/^[A-Z_]+$/);
    }
    expect(fivexx).toEqual([]);
  });
});
