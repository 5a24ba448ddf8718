import { io, type Socket } from 'socket.io-client';
import { NAMESPACES } from '@cpnet/protocol';

/** Connects to a node's /monitor namespace with a handshake token (from `issueHandshakeToken`). */
export function connectMonitor(baseUrl: string, token: string): Socket {
  return io(`${baseUrl}${NAMESPACES.monitor}`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
}

/** Waits for the first `event` on a socket, or fails after `timeoutMs`. */
export function firstMessage<T = unknown>(socket: Socket, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (data: T) => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.once('connect_error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
