import { io, type Socket } from 'socket.io-client';
import type { CancelTimer, Clock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { NAMESPACES } from '@cpnet/protocol';

/** A child's standing link to its parent; `close()` ends it for good, a retry waiting after a refusal included. */
export interface LinkConnection {
  readonly socket: Socket;
  close(): void;
}

/**
 * A child node's standing connection to its parent's /link namespace: the parent takes the child as gone when it
 * drops (or stops answering pings). Each connection attempt asks `token` for a fresh single-use handshake token; after
 * a refused handshake (socket.io does not retry those) it tries again after `retryMs` of wall time (`wall`, the system
 * clock by default) — unless closed meanwhile: a closed link never opens again.
 */
export function connectLink(
  baseUrl: string,
  o: { token: () => Promise<string>; retryMs: number; wall?: Pick<Clock, 'setTimeout'> },
): LinkConnection {
  const wall = o.wall ?? systemClock;
  let closed = false;
  let retry: CancelTimer | null = null;
  const socket = io(`${baseUrl}${NAMESPACES.link}`, {
    auth: (cb) => {
      o.token().then(
        (token) => cb({ token }),
        () => cb({ token: '' }),
      );
    },
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: o.retryMs,
    reconnectionDelayMax: o.retryMs * 4,
  });
  socket.on('connect_error', () => {
    // A refused handshake leaves the socket disconnected for good; a transport error is retried by socket.io.
    if (closed || socket.active || retry) return;
    retry = wall.setTimeout(() => {
      retry = null;
      if (!closed) socket.connect();
    }, o.retryMs);
  });
  return {
    socket,
    close() {
      closed = true;
      retry?.();
      retry = null;
      socket.close();
    },
  };
}
