/** What a check sent, what came back and what was expected: the evidence of a failed check. */
export interface CheckEvidence {
  readonly request?: {
    readonly method: string;
    readonly url: string;
    readonly headers?: Record<string, string>;
    readonly body?: unknown;
  };
  readonly response?:
    | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: unknown }
    | { readonly error: string };
  readonly expected: string;
  readonly detail?: string;
}

/** A check that failed, carrying structured evidence. */
export class CheckFailure extends Error {
  constructor(readonly evidence: CheckEvidence) {
    super(evidence.detail ?? `expected ${evidence.expected}`);
  }
}

/** One HTTP exchange as seen by a check. */
export interface Exchange {
  readonly request: { method: string; url: string; headers: Record<string, string>; body?: unknown };
  readonly response:
    { status: number; headers: Record<string, string>; body: unknown; text: string } | { error: string };
}

const KEPT_HEADERS = [
  'content-type',
  'cpn-protocol',
  'signature',
  'signature-input',
  'content-digest',
  'content-length',
  'authorization',
];

function pick(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => KEPT_HEADERS.includes(k.toLowerCase())));
}

const MAX_TEXT = 4000;
const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}… (${s.length} characters)` : s);

/** Sends one request with fetch and records it; network failures and timeouts are an `error` response, never a throw. */
export async function exchange(spec: {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
}): Promise<Exchange> {
  const headers = spec.headers ?? {};
  const shown = typeof spec.body === 'string' ? clip(spec.body) : spec.body ? `<${spec.body.length} bytes>` : undefined;
  const request = {
    method: spec.method,
    url: spec.url,
    headers: pick(headers),
    ...(shown === undefined ? {} : { body: tryJson(shown) }),
  };
  try {
    const r = await fetch(spec.url, {
      method: spec.method,
      headers,
      body: typeof spec.body === 'string' || spec.body === undefined ? spec.body : new Uint8Array(spec.body),
      // Wall time: a timeout guarding a real request to the node under test (fetch's own timer).
      // eslint-disable-next-line no-restricted-properties -- AbortSignal.timeout is the fetch API's wall-clock timeout
      signal: AbortSignal.timeout(spec.timeoutMs),
    });
    const text = await r.text();
    const h: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      h[k] = v;
    });
    return { request, response: { status: r.status, headers: pick(h), body: tryJson(clip(text)), text } };
  } catch (e) {
    const err = e as Error;
    const reason =
      err.name === 'TimeoutError'
        ? `no answer within ${spec.timeoutMs} ms`
        : `${err.message}${err.cause ? `: ${(err.cause as Error).message}` : ''}`;
    return { request, response: { error: reason } };
  }
}

function tryJson(text: string): unknown {
  try {
    return text === '' ? '' : JSON.parse(text);
  } catch {
    return text;
  }
}

/** The evidence of an exchange that did not give what was expected. */
export function failWith(x: Exchange, expected: string, detail?: string): never {
  throw new CheckFailure({
    request: x.request,
    response:
      'error' in x.response
        ? x.response
        : { status: x.response.status, headers: x.response.headers, body: x.response.body },
    expected,
    ...(detail ? { detail } : {}),
  });
}

/** The status of an exchange (0 when nothing came back). */
export const statusOf = (x: Exchange): number => ('error' in x.response ? 0 : x.response.status);

/** The parsed body of an exchange (undefined when nothing came back). */
export const bodyOf = (x: Exchange): unknown => ('error' in x.response ? undefined : x.response.body);
