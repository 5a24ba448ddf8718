import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startTestNode, type TestNode } from '../nodes.ts';
import { readFileSync } from 'node:fs';
import { docsChecker } from './responses.ts';
import { schemaValidator, type SchemaDocument } from './schemas.ts';

// The response checker itself: it passes a real answer and fails an undeclared status, a wrong shape and a wrong
// error body — so the standing check every node test runs (contract/setup.ts) can fail.
let n: TestNode;
beforeAll(async () => {
  n = await startTestNode({ role: 'national', code: 'CPN' });
});
afterAll(async () => {
  await n?.stop();
  cleanup();
});

describe('the response checker', () => {
  it('passes real answers and refuses undeclared statuses, shapes and error bodies', async () => {
    const checker = docsChecker();
    const r = await fetch(`${n.url}/cpn/v1/node`);
    const ok = {
      method: 'GET',
      url: '/cpn/v1/node',
      status: r.status,
      contentType: 'application/json',
      body: await r.text(),
    };
    expect(checker.problems(ok)).toEqual([]);
    expect(checker.problems({ ...ok, status: 418 })[0]).toMatch(/status not declared/);
    const headers = Object.fromEntries(r.headers.entries());
    expect(checker.problems({ ...ok, headers })).toEqual([]);
    const { 'cpn-protocol': _dropped, ...without } = headers;
    void _dropped;
    expect(checker.problems({ ...ok, headers: without })[0]).toMatch(/cpn-protocol is missing/);
    expect(checker.problems({ ...ok, body: JSON.stringify({ code: 'CPN' }) }).length).toBeGreaterThan(0);
    const surprise = { ...(JSON.parse(ok.body) as object), surprise: 1 };
    expect(checker.problems({ ...ok, body: JSON.stringify(surprise) }).join()).toMatch(/surprise/);
    const error = { ...ok, status: 400, body: JSON.stringify({ error: { code: 'NOPE', message: 'x' } }) };
    expect(checker.problems(error).join()).toMatch(/code/);
    // The raw-/ alias of an identifier matches its operation; an unknown route is not the checker's business.
    const resolve = { ...ok, url: '/cpn/v1/identifiers/CPN/ND-16Q', status: 201 };
    expect(checker.problems(resolve)[0]).toMatch(/resolveIdentifier/);
    expect(checker.problems({ ...ok, url: '/cpn/v1/nowhere', status: 404 })).toEqual([]);
  });

  it('the same schema validator reads docs/asyncapi.json (for the socket events)', () => {
    const asyncapi = JSON.parse(
      readFileSync(new URL('../../../docs/asyncapi.json', import.meta.url), 'utf8'),
    ) as SchemaDocument;
    const events = schemaValidator(asyncapi);
    const event = { id: 'e1', type: 'node.health', at: '2026-12-04T00:00:00.000Z', node: 'CPN', protocol: '1.0' };
    const ref = { $ref: '#/components/schemas/MonitorEvent' };
    expect(events.problems(ref, event)).toEqual([]);
    expect(events.problems(ref, { ...event, type: 'no.such-type' }).length).toBeGreaterThan(0);
  });
});
