import { io, type Socket } from 'socket.io-client';
import { NAMESPACES } from '@cpnet/protocol';
import { systemClock } from '@cpnet/kernel/system';

/**
 * Connects to a node's /monitor namespace with a handshake token (from `issueHandshakeToken`). `history: false` asks
 * the node for the snapshot and live events only, without the `history` message (a check that waits only for the
 * snapshot: at a national node the history is thousands of events read, parsed and sent).
 */
export function connectMonitor(baseUrl: string, token: string, o: { history?: boolean } = {}): Socket {
  return io(`${baseUrl}${NAMESPACES.monitor}`, {
    auth: o.history === false ? { token, history: false } : { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
}

/** Waits for the first `event` on a socket, or fails after `timeoutMs` of wall time (it waits on a real socket). */
export function firstMessage<T = unknown>(socket: Socket, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const cancel = systemClock.setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (data: T) => {
      cancel();
      resolve(data);
    });
    socket.once('connect_error', (e: Error) => {
      cancel();
      reject(e);
    });
  });
}
