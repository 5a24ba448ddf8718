import { describe, expect, it } from 'vitest';
import { generateRecording } from '../fixtures/recording-fixture.ts';
import { connectLive, type SocketLike } from './live.ts';

// A fake socket: the test plays the server's part by emitting to the registered listeners.
function fakeSocket() {
  const listeners = new Map<string, ((...args: unknown[]) => void)[]>();
  const socket: SocketLike & { emit(event: string, payload?: unknown): void; closed: boolean } = {
    closed: false,
    on(event, listener) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      return socket;
    },
    disconnect() {
      socket.closed = true;
    },
    emit(event, payload) {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
  };
  return socket;
}

describe('live source', () => {
  const fixture = generateRecording({ nodes: 6, clusters: 20, events: 50, seed: 3 });
  const snapshot = fixture.lines.find((l) => l.kind === 'snapshot')!;
  const node = fixture.failover.node;

  it('connects to <url>/monitor with the token, takes the snapshot, then applies events', () => {
    const socket = fakeSocket();
    let opened: { url: string; token?: string } | undefined;
    let now = 1_000;
    const statuses: string[] = [];
    const live = connectLive(
      {
        url: 'http://127.0.0.1:7000/',
        token: 'viewer-token',
        now: () => now,
        connect: (url, o) => ((opened = { url, token: (o.auth as { token?: string }).token }), socket),
      },
      { onState: () => undefined, onStatus: (s, d) => void statuses.push(d ? `${s}:${d}` : s) },
    );
    expect(opened).toEqual({ url: 'http://127.0.0.1:7000/monitor', token: 'viewer-token' });
    socket.emit('connect');
    socket.emit('snapshot', snapshot.kind === 'snapshot' ? snapshot.state : null);
    expect(live.state().nodes.get(node)?.health).toBe('healthy');
    now = 3_500;
    socket.emit('event', {
      protocol: '1.0',
      event: {
        id: 'e1',
        type: 'node.health',
        at: '2026-03-02T08:00:02.500Z',
        node: 'CPN',
        subject: node,
        data: { health: 'down' },
      },
    });
    expect(live.state().nodes.get(node)?.health).toBe('down');
    expect(live.events[0]?.t).toBe(2_500);
    socket.emit('event', { id: 'bad' });
    expect(statuses).toEqual(['connecting', 'connected', expect.stringMatching(/^error:invalid event/)]);
    live.close();
    expect(socket.closed).toBe(true);
  });

  it('asks a token source for a fresh token at every (re)connection, so an expired token is never reused', async () => {
    let minted = 0;
    const auths: ((cb: (a: { token?: string }) => void) => void)[] = [];
    connectLive(
      {
        url: 'http://127.0.0.1:7000',
        token: () => Promise.resolve(`viewer-token-${++minted}`),
        now: () => 0,
        connect: (_url, o) => {
          if (typeof o.auth === 'function') auths.push(o.auth);
          return fakeSocket();
        },
      },
      { onState: () => undefined },
    );
    expect(auths).toHaveLength(1);
    const ask = () => new Promise<{ token?: string }>((resolve) => auths[0]!(resolve));
    // socket.io-client calls the auth function at the first connection and again at each reconnection.
    expect(await ask()).toEqual({ token: 'viewer-token-1' });
    expect(await ask()).toEqual({ token: 'viewer-token-2' });
  });
});
