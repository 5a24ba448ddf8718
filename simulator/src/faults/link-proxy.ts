import net from 'node:net';
import { stopwatch, systemClock } from '@cpnet/kernel/system';

/** The faults a link can have. Directions are named from the client's side: `up` client→server, `down` back. */
export interface LinkFaults {
  /** Added one-way delay per chunk, in real ms. */
  readonly latencyMs: number;
  /** Uniform extra delay 0…jitterMs per chunk; order is kept. */
  readonly jitterMs: number;
  /** Which directions are black-holed: data sent that way is dropped, as in a network partition. */
  readonly partition: 'none' | 'full' | 'up' | 'down';
  /** A bandwidth cap per direction, or null for none. */
  readonly bandwidthKbps: number | null;
}

/** A healthy link. */
export const NO_FAULTS: LinkFaults = { latencyMs: 0, jitterMs: 0, partition: 'none', bandwidthKbps: null };

/** A TCP proxy on loopback between two linked nodes, whose faults can be changed while it runs. */
export interface LinkProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: give this to the client side instead of the server's own URL. */
  readonly url: string;
  faults(): LinkFaults;
  /** Points the proxy at another port (a node restarted elsewhere); open connections are reset. */
  retarget(port: number): void;
  set(faults: Partial<LinkFaults>): void;
  /** Removes every fault; connections that lost data in a partition are reset so that clients reconnect. */
  heal(): void;
  /** Resets every open connection (TCP RST), as a middlebox or a crashed peer would. */
  reset(): void;
  stats(): { connections: number; open: number; bytesUp: number; bytesDown: number; dropped: number };
  /** Rewrites data passing one way (e.g. corrupting answers on purpose); null removes it. Applied per TCP chunk. */
  setTransform(transform: ChunkTransform | null): void;
  close(): Promise<void>;
}

/**
 * Rewrites one chunk of data travelling `direction`. It sees TCP chunks, not HTTP messages: to keep HTTP framing
 * valid, a rewrite of a body should keep its length (Content-Length is not recomputed).
 */
export type ChunkTransform = (chunk: Buffer, direction: 'up' | 'down') => Buffer;

interface Pipe {
  lastRelease: number;
  pending: number;
  endWhenDrained: boolean;
}

interface Conn {
  client: net.Socket;
  upstream: net.Socket | null;
  lostData: boolean;
}

/** Starts a proxy on 127.0.0.1 (port chosen by the OS) forwarding to `target`. */
export async function startLinkProxy(options: {
  target: { host: string; port: number };
  random?: () => number;
  transform?: ChunkTransform;
  /** The address to listen on (default 127.0.0.1; a LAN's gateway when nodes run on separate hosts). */
  listen?: string;
}): Promise<LinkProxy> {
  const listen = options.listen ?? '127.0.0.1';
  const random = options.random ?? Math.random;
  let transform: ChunkTransform | null = options.transform ?? null;
  let current: LinkFaults = NO_FAULTS;
  let upstreamAddress = { ...options.target };
  const conns = new Set<Conn>();
  const stats = { connections: 0, bytesUp: 0, bytesDown: 0, dropped: 0 };
  // Wall ms on a monotonic clock: release times of delayed chunks.
  const sinceStart = stopwatch();

  const forward = (o: { conn: Conn; from: net.Socket; to: () => net.Socket | null; direction: 'up' | 'down' }) => {
    const pipe: Pipe = { lastRelease: 0, pending: 0, endWhenDrained: false };
    o.from.on('data', (data: Buffer) => {
      const f = current;
      const chunk = transform ? transform(data, o.direction) : data;
      if (f.partition === 'full' || f.partition === o.direction) {
        stats.dropped += chunk.length;
        o.conn.lostData = true;
        return;
      }
      if (o.direction === 'up') stats.bytesUp += chunk.length;
      else stats.bytesDown += chunk.length;
      const delay = f.latencyMs + (f.jitterMs > 0 ? random() * f.jitterMs : 0);
      const transmit = f.bandwidthKbps ? (chunk.length * 8) / f.bandwidthKbps : 0;
      if (delay === 0 && transmit === 0 && pipe.pending === 0) return void o.to()?.write(chunk);
      const now = sinceStart();
      const release = Math.max(now + delay, pipe.lastRelease) + transmit;
      pipe.lastRelease = release;
      pipe.pending++;
      // Wall time: the proxy delays real bytes on a real socket.
      systemClock.setTimeout(() => {
        pipe.pending--;
        const target = o.to();
        if (target && !target.destroyed) target.write(chunk);
        if (pipe.pending === 0 && pipe.endWhenDrained) target?.end();
      }, release - now);
    });
    // A FIN travels like data: delayed behind what was sent before it, and lost in a partition.
    o.from.on('end', () => {
      const f = current;
      if (f.partition === 'full' || f.partition === o.direction) return;
      if (pipe.pending > 0) pipe.endWhenDrained = true;
      else o.to()?.end();
    });
  };

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    stats.connections++;
    const conn: Conn = { client, upstream: null, lostData: false };
    conns.add(conn);
    const upstream = net.connect({ ...upstreamAddress, allowHalfOpen: true });
    conn.upstream = upstream;
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    forward({ conn, from: client, to: () => conn.upstream, direction: 'up' });
    forward({ conn, from: upstream, to: () => conn.client, direction: 'down' });
    const end = () => {
      conns.delete(conn);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    // Half-closes pass through (see forward); a socket that is fully closed or fails ends the pair.
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listen, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  const resetAll = (only?: (c: Conn) => boolean) => {
    for (const c of [...conns]) {
      if (only && !only(c)) continue;
      conns.delete(c);
      c.client.resetAndDestroy();
      c.upstream?.resetAndDestroy();
    }
  };

  return {
    port,
    url: `http://${listen}:${port}`,
    faults: () => current,
    retarget: (port) => {
      upstreamAddress = { ...upstreamAddress, port };
      resetAll();
    },
    set: (f) => {
      current = { ...current, ...f };
    },
    heal: () => {
      current = NO_FAULTS;
      resetAll((c) => c.lostData);
    },
    reset: () => resetAll(),
    stats: () => ({ ...stats, open: conns.size }),
    setTransform: (t) => {
      transform = t;
    },
    close: () =>
      new Promise<void>((resolve) => {
        resetAll();
        server.close(() => resolve());
      }),
  };
}
