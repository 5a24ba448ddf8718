import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';
import { createClient, type TlsOptions } from '@cpnet/client';
import { ed25519Profile } from '@cpnet/security';
import type { NodeConfig } from '../config.ts';
import type { NodeDeps } from '../deps.ts';
import type { NodeIdentity } from '../identity.ts';

/**
 * The identity check of a node link: the peer certificate (already verified by TLS to chain to the national root)
 * must carry exactly one SAN, the URI `cpn:<expected>`, and CN `cpn:<expected>`. With `expected` null any `cpn:`
 * identity is accepted. Host names play no part: node certificates name prefixes, not hosts.
 */
export function checkPeerIdentity(expected: string | null): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const sans = (cert.subjectaltname ?? '').split(', ').filter((x) => x !== '');
    const san = sans.length === 1 ? sans[0]! : '';
    if (!san.startsWith('URI:cpn:'))
      return new Error(`the peer certificate does not name one cpn: identity (SAN ${cert.subjectaltname ?? 'none'})`);
    const name = san.slice('URI:cpn:'.length);
    if (cert.subject?.CN !== `cpn:${name}`)
      return new Error(`the peer certificate CN ${String(cert.subject?.CN)} differs from its SAN cpn:${name}`);
    if (expected !== null && name !== expected)
      return new Error(`the peer certificate names cpn:${name}, expected cpn:${expected}`);
    return undefined;
  };
}

/** How a plain endpoint of a peer is reached over TLS. */
export interface TlsRoute {
  readonly url: string;
  readonly prefix: string | null;
  /** Stable per route, so the client's keep-alive agent is shared. */
  readonly tls: TlsOptions;
}

/** This node's TLS side: its HTTPS listener and what it knows of its peers' HTTPS endpoints. */
export interface TlsLinks {
  readonly enabled: boolean;
  /** The HTTPS endpoint this node advertises, once its listener is up (null otherwise). */
  endpoint(): string | null;
  /** The TLS route for a peer endpoint: a learnt upgrade of a plain endpoint, or an `https:` endpoint itself. */
  route(endpoint: string): TlsRoute | undefined;
  /** Asks the peer at a plain endpoint for its NodeInfo and remembers its `tlsEndpoint`, bound to `prefix`. */
  learn(endpoint: string, prefix: string): Promise<boolean>;
  /** Starts the HTTPS listener when enabled and this node holds a certificate (idempotent). */
  serve(): Promise<void>;
  close(): Promise<void>;
  /** The TLS server, once listening (tests count its connections). */
  server(): tls.Server | null;
}

/** Builds the TLS side of a node; `attach` gives it the HTTP server its TLS connections are handed to. */
export function createTlsLinks(input: {
  config: NodeConfig;
  deps: NodeDeps;
  identity: NodeIdentity;
  onChange: (endpoint: string) => void;
}): TlsLinks & { attach(server: HttpServer): void } {
  const { config, deps, identity } = input;
  const routes = new Map<string, TlsRoute>();
  const direct = new Map<string, TlsRoute>();
  let http: HttpServer | null = null;
  let server: tls.Server | null = null;
  let url: string | null = null;
  let starting: Promise<void> | null = null;
  const sockets = new Set<Socket>();
  const trust = (prefix: string | null): TlsOptions => ({
    ca: identity.root!,
    checkServerIdentity: checkPeerIdentity(prefix),
  });

  async function listen(): Promise<void> {
    const certificate = identity.certificate!;
    // The chain as served: own certificate, then the issuers (the root may be included; clients trust it anyway).
    const cert = [certificate, ...identity.chain.slice(1)].join('\n');
    const s = tls.createServer(
      {
        key: ed25519Profile.exportPrivateKey(identity.keys.privateKey),
        cert,
        minVersion: 'TLSv1.3',
        ALPNProtocols: ['http/1.1'],
      },
      (socket) => {
        // The same HTTP server (Express app and socket.io) serves the decrypted connection.
        http!.emit('connection', socket);
      },
    );
    s.on('connection', (raw: Socket) => {
      sockets.add(raw);
      raw.once('close', () => sockets.delete(raw));
    });
    s.on('tlsClientError', (e) => deps.logger.debug({ err: e.message }, 'TLS handshake refused'));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(config.tls.port, config.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    const address = s.address();
    const port = typeof address === 'object' && address ? address.port : config.tls.port;
    server = s;
    url = config.tls.publicUrl ?? `https://${config.host}:${port}`;
    deps.logger.info({ url, code: config.code }, 'node listening over TLS');
  }

  return {
    enabled: config.tls.enabled,
    endpoint: () => url,
    route(endpoint) {
      if (!config.tls.enabled || !identity.root) return undefined;
      const learnt = routes.get(endpoint);
      if (learnt) return learnt;
      if (!endpoint.startsWith('https:')) return undefined;
      let r = direct.get(endpoint);
      if (!r) {
        r = { url: endpoint, prefix: null, tls: trust(null) };
        direct.set(endpoint, r);
      }
      return r;
    },
    async learn(endpoint, prefix) {
      if (!config.tls.enabled || !identity.root || endpoint.startsWith('https:')) return false;
      const r = await createClient({ baseUrl: endpoint, timeoutMs: config.linkTimeoutMs }).node();
      const tlsEndpoint = r.ok && r.value.code === prefix ? r.value.tlsEndpoint : undefined;
      const known = routes.get(endpoint);
      if (!tlsEndpoint) return known !== undefined;
      if (known?.url === tlsEndpoint && known.prefix === prefix) return true;
      routes.set(endpoint, { url: tlsEndpoint, prefix, tls: trust(prefix) });
      deps.logger.info({ peer: prefix, endpoint, tlsEndpoint }, 'node link over TLS');
      input.onChange(endpoint);
      return true;
    },
    serve() {
      if (!config.tls.enabled || !identity.certificate || !http || server) return Promise.resolve();
      starting ??= listen().finally(() => {
        starting = null;
      });
      return starting;
    },
    async close() {
      const s = server;
      server = null;
      url = null;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const raw of sockets) raw.destroy();
      await closed;
    },
    server: () => server,
    attach(s) {
      http = s;
    },
  };
}
