import { io, type Socket } from 'socket.io-client';
import { NAMESPACES } from '@cpnet/protocol';
import { systemClock } from '@cpnet/kernel/system';

/** Connects to a node's /monitor namespace with a handshake token (from `issueHandshakeToken`). */
export function connectMonitor(baseUrl: string, token: string): Socket {
  return io(`${baseUrl}${NAMESPACES.monitor}`, {
    auth: { token },
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
