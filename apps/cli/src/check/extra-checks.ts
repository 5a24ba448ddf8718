import { io } from 'socket.io-client';
import { systemClock } from '@cpnet/kernel/system';
import { NAMESPACES, PROTOCOL_HEADER, ROUTES, SOCKET_EVENTS } from '@cpnet/protocol';
import { identifierPath, buildHeaders, type ClientOptions } from '@cpnet/client';
import {
  bodyOf,
  CheckFailure,
  exchange,
  failWith,
  signedEcho,
  statusOf,
  type CheckTarget,
  type Exchange,
  type NodeContext,
} from '@cpnet/node';

/** What an extra check works with: the checking node, the target, a record registered at the checking node. */
interface ExtraEnv {
  readonly ctx: NodeContext;
  readonly target: CheckTarget;
  readonly timeoutMs: number;
  /** An identifier registered at the checking node (resolved through the target). */
  readonly recordId: string;
}

/** A check beyond the node's joint-debugging list. */
interface ExtraCheck {
  readonly id: string;
  readonly description: string;
  run(env: ExtraEnv): Promise<unknown>;
}

const JSON_HEADERS = { [PROTOCOL_HEADER]: '1.0', accept: 'application/json' };
const url = (env: ExtraEnv, path: string) => new URL(path, env.target.endpoint).toString();
const get = (env: ExtraEnv, path: string, headers: Record<string, string> = JSON_HEADERS) =>
  exchange({ method: 'GET', url: url(env, path), headers, timeoutMs: env.timeoutMs });

function signedPost(
  env: ExtraEnv,
  input: { path: string; text: string; headers?: Record<string, string> },
): Promise<Exchange> {
  const options: ClientOptions = env.ctx.clientFor(env.target.endpoint).options;
  const u = url(env, input.path);
  const headers = { ...buildHeaders(options, { method: 'POST', path: u, url: u, text: input.text }), ...input.headers };
  return exchange({ method: 'POST', url: u, headers, body: input.text, timeoutMs: env.timeoutMs });
}

/** True when a body has the error shape `{ error: { code, message, field? } }` and nothing else. */
function isErrorBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Object.keys(body).join() !== 'error') return false;
  const e = (body as { error: unknown }).error;
  if (typeof e !== 'object' || e === null) return false;
  const { code, message, field, detail, ...rest } = e as Record<string, unknown>;
  const detailOk =
    detail === undefined ||
    (typeof detail === 'object' &&
      detail !== null &&
      !Array.isArray(detail) &&
      Object.values(detail).every((v) => typeof v === 'string'));
  return (
    typeof code === 'string' &&
    typeof message === 'string' &&
    (field === undefined || typeof field === 'string') &&
    detailOk &&
    Object.keys(rest).length === 0
  );
}

function expectError(x: Exchange, status: number, expected: string): { code: string; message: string; field?: string } {
  if (statusOf(x) !== status) failWith(x, expected);
  if (!isErrorBody(bodyOf(x)))
    failWith(
      x,
      `${expected}, with the body { "error": { "code", "message", "field"?, "detail"? } }`,
      'the error body does not have the error shape',
    );
  return (bodyOf(x) as { error: { code: string; message: string; field?: string } }).error;
}

async function resolvesTo(env: ExtraEnv, input: { path: string; how: string }): Promise<unknown> {
  const x = await get(env, input.path);
  if (statusOf(x) !== 200) failWith(x, `200 with the record ${env.recordId} (${input.how})`);
  const id = (bodyOf(x) as { record?: { id?: unknown } } | undefined)?.record?.id;
  if (id !== env.recordId) failWith(x, `the record ${env.recordId} (${input.how})`, `got record ${String(id)}`);
  return { path: input.path, status: 200 };
}

const LARGE = 1024 * 1024 + 64 * 1024;

/** The checks a team needs beyond the node's list, in the order they run. */
export const EXTRA_CHECKS: readonly ExtraCheck[] = [
  {
    id: 'protocol-header',
    description: `Every answer MUST carry the \`${PROTOCOL_HEADER}\` header with a 1.x version`,
    run: async (env) => {
      const x = await get(env, ROUTES.node);
      const v = 'error' in x.response ? undefined : x.response.headers[PROTOCOL_HEADER];
      if (statusOf(x) !== 200 || !v || !/^1\.\d+$/.test(v)) failWith(x, `200 with the header ${PROTOCOL_HEADER}: 1.x`);
      return { [PROTOCOL_HEADER]: v };
    },
  },
  {
    id: 'protocol-major-refused',
    description: `A request with another protocol major version (\`${PROTOCOL_HEADER}: 2.0\`) MUST be refused with 400 and an error body`,
    run: async (env) => {
      const x = await get(env, ROUTES.node, { ...JSON_HEADERS, [PROTOCOL_HEADER]: '2.0' });
      const e = expectError(x, 400, `400: ${PROTOCOL_HEADER} 2.0 is another major version`);
      return { code: e.code };
    },
  },
  {
    id: 'strict-schema',
    description:
      'A signed write with a field the schema does not know (outside `ext`) MUST be refused with 400 naming that field',
    run: async (env) => {
      const body = {
        kind: 'SV',
        values: [{ index: 1, type: 'URL', data: 'https://example.cn', ttl: 0 }],
        surprise: true,
      };
      const x = await signedPost(env, { path: ROUTES.identifiers, text: JSON.stringify(body) });
      const e = expectError(x, 400, '400 naming the unknown field "surprise"');
      if (e.field !== 'surprise' && !e.message.includes('surprise'))
        failWith(x, '400 naming the unknown field "surprise" (in `field` or the message)');
      return { field: e.field ?? null };
    },
  },
  {
    id: 'error-shape',
    description:
      'An unknown route MUST be answered 404 with the body { "error": { "code", "message", "field"?, "detail"? } }',
    run: async (env) => {
      const x = await get(env, '/cpn/v1/no-such-route');
      const e = expectError(x, 404, '404 for an unknown route');
      return { code: e.code };
    },
  },
  {
    id: 'malformed-identifier-400',
    description:
      'Resolving a malformed identifier (wrong check characters) MUST be refused with 400 naming the segment and the expected pair',
    run: async (env) => {
      const x = await get(env, identifierPath('CPN.51/ND-1EK'));
      const e = expectError(x, 400, '400 naming the check segment and the expected pair "EJ"');
      if (!e.message.includes('EJ')) failWith(x, 'an error message naming the expected check characters "EJ"');
      return { code: e.code, field: e.field ?? null };
    },
  },
  {
    id: 'unsigned-write-401',
    description: 'A write without a signature MUST be refused with 401 before its body is read (even a malformed body)',
    run: async (env) => {
      const x = await exchange({
        method: 'POST',
        url: url(env, ROUTES.identifiers),
        headers: { ...JSON_HEADERS, 'content-type': 'application/json' },
        body: '{"this is": not json',
        timeoutMs: env.timeoutMs,
      });
      const e = expectError(
        x,
        401,
        '401: the write carries no signature (the malformed body must not be looked at first)',
      );
      return { code: e.code };
    },
  },
  {
    id: 'body-limit-413',
    description: 'A signed write whose body is over the size limit (1 MiB) MUST be refused with 413',
    run: async (env) => {
      const text = JSON.stringify({ check: 'size', padding: 'x'.repeat(LARGE) });
      const x = await signedPost(env, { path: `${ROUTES.jointDebug}/echo`, text });
      const e = expectError(x, 413, `413: the body is ${text.length} bytes, over 1 MiB`);
      return { code: e.code };
    },
  },
  {
    id: 'identifier-percent-encoded',
    description: 'An identifier written in the URL with %2F between prefix and suffix MUST resolve',
    run: (env) => resolvesTo(env, { path: identifierPath(env.recordId), how: '%2F' }),
  },
  {
    id: 'identifier-raw-slash',
    description: 'An identifier written in the URL with a raw "/" MUST resolve to the same record',
    run: (env) => resolvesTo(env, { path: identifierPath(env.recordId, true), how: 'raw /' }),
  },
  {
    id: 'identifier-canonical-form',
    description: 'An identifier in lower case MUST be canonicalised (upper-cased) and resolve to the same record',
    run: (env) => resolvesTo(env, { path: identifierPath(env.recordId.toLowerCase()), how: 'lower case' }),
  },
  {
    id: 'monitor-refuses-bad-token',
    description: 'The /monitor namespace MUST refuse a handshake without a valid token',
    run: async (env) => {
      const socket = io(`${env.target.endpoint}${NAMESPACES.monitor}`, {
        auth: { token: 'not-a-token' },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      const request = {
        method: 'socket.io',
        url: `${env.target.endpoint}${NAMESPACES.monitor}`,
        body: { auth: { token: 'not-a-token' } },
      };
      try {
        const outcome = await new Promise<string>((resolve) => {
          // Wall time: it waits on a real socket to the target.
          const cancel = systemClock.setTimeout(() => resolve('timeout'), env.timeoutMs);
          socket.once('connect_error', (e: Error) => {
            cancel();
            resolve(`refused: ${e.message}`);
          });
          socket.once(SOCKET_EVENTS.snapshot, () => {
            cancel();
            resolve('snapshot');
          });
        });
        if (!outcome.startsWith('refused'))
          throw new CheckFailure({
            request,
            response: {
              error: outcome === 'snapshot' ? 'a snapshot was sent' : `no answer within ${env.timeoutMs} ms`,
            },
            expected: 'connect_error: the handshake is refused',
          });
        return { outcome };
      } finally {
        socket.close();
      }
    },
  },
  {
    id: 'unknown-signer-refused',
    description: 'A message signed by a keyid the node does not know MUST be refused with 401',
    run: async (env) => {
      const m = signedEcho(env.ctx, env.target, { body: { check: 'unknown-signer' } });
      const headers = {
        ...m.headers,
        'signature-input': (m.headers['signature-input'] ?? '').replace(/keyid="[^"]*"/, 'keyid="CPN.82"'),
      };
      const x = await exchange({ method: 'POST', url: m.url, headers, body: m.text, timeoutMs: env.timeoutMs });
      expectError(x, 401, '401: keyid CPN.82 is not a known peer (and the signature input was changed)');
      return { status: 401 };
    },
  },
];
