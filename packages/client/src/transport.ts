import http from 'node:http';
import https from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { Clock } from '@cpnet/kernel';

/** TLS material for node links: the PKI's root to trust, and optionally this node's certificate and key (mutual TLS). */
export interface TlsOptions {
  /** PEM of the certificates to trust (the national root). */
  readonly ca: string | readonly string[];
  /** This node's certificate chain (PEM), presented when the peer asks for a client certificate. */
  readonly cert?: string;
  /** This node's private key (PEM). */
  readonly key?: string;
  /**
   * Checks the peer's certificate beyond the chain (e.g. that its `cpn:<prefix>` URI SAN is the expected node).
   * Return an Error to refuse. The default checks the chain only: node certificates name prefixes, not host names.
   */
  readonly checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

/** One response as bytes. */
export interface RawResponse {
  readonly status: number;
  readonly text: string;
}

/**
 * Wall ms an idle kept-alive connection waits for its next request before the client closes it: under a cpnet node's
 * own keep-alive (65 s), so the client, not the server, closes first. Links between nodes talk every few seconds to
 * minutes (summaries, relays, heartbeats); at Node's 5 s each quiet spell cost a new connection — over TLS a new
 * handshake. A server that closes sooner is met by the keep-alive race retry in `transmit`.
 */
export const IDLE_SOCKET_MS = 60_000;

/** Keep-alive agents shared by the clients of a process: node links reuse their connections. */
const SHARED = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS }),
};

/** A keep-alive HTTPS agent trusting the given PKI root (one per set of TLS options). */
export function tlsAgent(tls: TlsOptions): https.Agent {
  return new https.Agent({
    keepAlive: true,
    maxSockets: 64,
    timeout: IDLE_SOCKET_MS,
    ca: tls.ca as string | string[],
    cert: tls.cert,
    key: tls.key,
    checkServerIdentity: tls.checkServerIdentity ?? (() => undefined),
  });
}

function once(input: {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Wall ms the request may take (`wall`'s time): it guards a real connection. */
  timeoutMs: number;
  wall: Clock;
  agent?: http.Agent;
}): Promise<RawResponse & { reused: boolean }> {
  const secure = input.url.protocol === 'https:';
  const agent = input.agent ?? (secure ? SHARED.https : SHARED.http);
  const request = secure ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const headers = {
      ...input.headers,
      ...(input.body !== undefined ? { 'content-length': String(Buffer.byteLength(input.body)) } : {}),
    };
    const req = request(input.url, { method: input.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        cancel();
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          reused: req.reusedSocket,
        });
      });
      res.on('error', (e) => {
        cancel();
        reject(e);
      });
    });
    const cancel = input.wall.setTimeout(
      () => req.destroy(new Error(`timed out after ${input.timeoutMs} ms`)),
      input.timeoutMs,
    );
    req.on('error', (e: Error & { reused?: boolean }) => {
      cancel();
      e.reused = req.reusedSocket;
      reject(e);
    });
    req.end(input.body);
  });
}

/**
 * Sends one HTTP request over a keep-alive agent. A request that fails on a reused connection the server had just
 * closed (the keep-alive race: ECONNRESET before any answer) is sent once more on a new one, as Node's docs advise;
 * the same signed bytes are resent, so a receiver that did see the first refuses the second as a replay.
 */
export async function transmit(input: {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Wall ms the request may take (`wall`'s time): it guards a real connection. */
  timeoutMs: number;
  wall: Clock;
  agent?: http.Agent;
}): Promise<RawResponse> {
  try {
    return await once(input);
  } catch (e) {
    const err = e as Error & { code?: string; reused?: boolean };
    if (err.reused && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return once(input);
    throw e;
  }
}
