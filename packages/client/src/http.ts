import type { Clock, TimeSource } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { codeForStatus, PROTOCOL_HEADER, PROTOCOL_VERSION, type ErrorCode } from '@cpnet/protocol';
import type { RandomBytes } from '@cpnet/security';
import type { ClientResult } from './result.ts';
import { signatureHeaders, type Signer } from './signer.ts';
import { tlsAgent, transmit, type TlsOptions } from './transport.ts';
import type { Agent } from 'node:http';

/** How a client reaches one node. */
export interface ClientOptions {
  /** The node's base URL, e.g. http://127.0.0.1:7001 (no trailing path). */
  readonly baseUrl: string;
  /** Sign writes (and any request with `sign: true`) as this identity. */
  readonly signer?: Signer;
  /** A person's API token, sent as `Authorization: Bearer` when there is no signer. */
  readonly token?: string;
  /**
   * The signer's time (a signature's `created` and `expires`): node time, virtual in a simulation. Default the system
   * clock.
   */
  readonly clock?: TimeSource;
  /** Wall time, for the per-request timeout that guards the real connection. Default the system clock. */
  readonly wall?: Clock;
  readonly randomBytes?: RandomBytes;
  /** Per-request timeout in wall ms (default 5000). */
  readonly timeoutMs?: number;
  /** Trust for `https:` node links (the PKI's root, and this node's certificate for mutual TLS). */
  readonly tls?: TlsOptions;
  /** An HTTP agent of your own; by default connections are kept alive and shared per process. */
  readonly agent?: Agent;
}

/** One request's details. */
export interface RequestSpec {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** Extra headers (override the defaults). */
  readonly headers?: Record<string, string>;
  /** Sign even a GET; writes are always signed when a signer is set. */
  readonly sign?: boolean;
  /** This request's timeout in wall ms, instead of the client's `timeoutMs`. */
  readonly timeoutMs?: number;
}

function failure<T>(e: { status: number; code: ErrorCode; message: string; field?: string }): ClientResult<T> {
  return {
    ok: false,
    status: e.status,
    error: e.field === undefined ? { status: e.status, code: e.code, message: e.message } : { ...e, field: e.field },
  };
}

/** Builds the headers of a request: protocol version, JSON content type, then the signature or the token. */
export function buildHeaders(
  options: ClientOptions,
  spec: RequestSpec & { url: string; text?: string },
): Record<string, string> {
  const headers: Record<string, string> = { [PROTOCOL_HEADER]: PROTOCOL_VERSION, accept: 'application/json' };
  if (spec.text !== undefined) headers['content-type'] = 'application/json';
  Object.assign(headers, spec.headers);
  const write = spec.method !== 'GET' && spec.method !== 'HEAD';
  if (options.signer && (write || spec.sign)) {
    Object.assign(
      headers,
      signatureHeaders(
        { method: spec.method, url: spec.url, headers, body: spec.text },
        { signer: options.signer, clock: options.clock ?? systemClock, randomBytes: options.randomBytes },
      ),
    );
  } else if (options.token) {
    headers.authorization = `Bearer ${options.token}`;
  }
  return headers;
}

const tlsAgents = new WeakMap<TlsOptions, Agent>();

function agentOf(options: ClientOptions): Agent | undefined {
  if (options.agent) return options.agent;
  if (!options.tls) return undefined;
  let a = tlsAgents.get(options.tls);
  if (!a) {
    a = tlsAgent(options.tls);
    tlsAgents.set(options.tls, a);
  }
  return a;
}

/** Sends one request and maps the answer to a ClientResult; network failures are status 0, UPSTREAM_UNAVAILABLE. */
export async function send<T>(options: ClientOptions, spec: RequestSpec): Promise<ClientResult<T>> {
  const url = new URL(spec.path, options.baseUrl).toString();
  const text =
    spec.body === undefined ? undefined : typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
  let response: { status: number; text: string };
  try {
    const headers = buildHeaders(options, { ...spec, url, text });
    response = await transmit({
      url: new URL(url),
      method: spec.method,
      headers,
      body: text,
      timeoutMs: spec.timeoutMs ?? options.timeoutMs ?? 5000,
      wall: options.wall ?? systemClock,
      agent: agentOf(options),
    });
  } catch (e) {
    return failure({
      status: 0,
      code: 'UPSTREAM_UNAVAILABLE',
      message: `${spec.method} ${url}: ${(e as Error).message}`,
    });
  }
  const raw = response.text;
  const ok = response.status >= 200 && response.status < 300;
  let parsed: unknown;
  try {
    parsed = raw === '' ? undefined : JSON.parse(raw);
  } catch {
    parsed = raw;
  }
  if (ok) return { ok: true, status: response.status, value: parsed as T };
  const e = (parsed as { error?: { code?: ErrorCode; message?: string; field?: string } } | undefined)?.error;
  return failure({
    status: response.status,
    code: e?.code ?? codeForStatus(response.status),
    message: e?.message ?? `HTTP ${response.status}`,
    ...(e?.field ? { field: e.field } : {}),
  });
}
