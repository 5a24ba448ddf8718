import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
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
    let opened: { url: string; token?: string; batch?: true } | undefined;
    let now = 1_000;
    const statuses: string[] = [];
    const live = connectLive(
      {
        url: 'http://127.0.0.1:7000/',
        token: 'viewer-token',
        now: () => now,
        connect: (url, o) => (
          (opened = {
            url,
            token: typeof o.auth === 'function' ? undefined : o.auth.token,
            batch: typeof o.auth === 'function' ? undefined : o.auth.batch,
          }),
          socket
        ),
      },
      { onState: () => undefined, onStatus: (s, d) => void statuses.push(d ? `${s}:${d}` : s) },
    );
    expect(opened).toEqual({ url: 'http://127.0.0.1:7000/monitor', token: 'viewer-token', batch: true });
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

  it('applies a batch of events (`events`, asked for with `batch: true`) as each alone, the state handed on once', () => {
    const socket = fakeSocket();
    let states = 0;
    const seen: string[] = [];
    const statuses: string[] = [];
    const live = connectLive(
      { url: 'http://127.0.0.1:7000', token: 't', now: () => 0, connect: () => socket },
      {
        onState: () => void states++,
        onEvent: (e) => void seen.push(e.event.id),
        onStatus: (s, d) => void statuses.push(d ? `${s}:${d}` : s),
      },
    );
    socket.emit('snapshot', snapshot.kind === 'snapshot' ? snapshot.state : null);
    states = 0;
    const health = (id: string, ms: number, h: string) => ({
      id,
      type: 'node.health',
      at: new Date(Date.parse('2026-03-02T08:00:00.000Z') + ms).toISOString(),
      node: 'CPN',
      subject: node,
      data: { health: h },
    });
    socket.emit('events', { protocol: '1.0', events: [health('b1', 1_000, 'degraded'), health('b2', 2_000, 'down')] });
    expect(seen).toEqual(['b1', 'b2']);
    expect(states).toBe(1);
    expect(live.state().nodes.get(node)?.health).toBe('down');
    // A bad member is refused and said; the good ones around it still apply.
    socket.emit('events', { events: [{ id: 'bad' }, health('b3', 3_000, 'healthy')] });
    expect(seen).toEqual(['b1', 'b2', 'b3']);
    expect(live.state().nodes.get(node)?.health).toBe('healthy');
    socket.emit('events', { protocol: '1.0' });
    expect(statuses.filter((s) => s.startsWith('error:'))).toEqual([
      expect.stringMatching(/^error:invalid event/),
      'error:invalid events: a batch without an `events` list',
    ]);
    live.close();
  });

  it('keeps what events newer than a snapshot said when that snapshot arrives after them (a poll in flight at a kill)', () => {
    const socket = fakeSocket();
    const live = connectLive(
      { url: 'http://127.0.0.1:7000', token: 't', now: () => 0, connect: () => socket },
      { onState: () => undefined },
    );
    const picture = snapshot.kind === 'snapshot' ? snapshot.state : null;
    if (!picture) throw new Error('the fixture has no snapshot');
    socket.emit('connect');
    socket.emit('snapshot', picture);
    const at = (ms: number) => new Date(Date.parse(picture.at) + ms).toISOString();
    const event = (id: string, ms: number, [subject, health]: [string, string]) => ({
      id,
      type: 'node.health',
      at: at(ms),
      node: 'CPN',
      subject,
      data: { health },
    });
    const other = picture.nodes.find((n) => n.code !== node && n.code !== 'CPN')!.code;
    // Older than the picture polled next: its effect is in that picture (which says healthy), so it is not re-applied.
    socket.emit('event', event('e-old', 1_000, [other, 'down']));
    // The kill, 2 s after the picture below was taken; the picture arrives after it.
    socket.emit('event', event('e-kill', 3_000, [node, 'down']));
    expect(live.refresh({ ...picture, at: at(1_000) })).toBe(true);
    expect(live.state().nodes.get(node)?.health).toBe('down');
    expect(live.state().nodes.get(other)?.health).toBe('healthy');
    expect(live.state().t).toBe(3_000);
    // A picture taken after the event is the node's word.
    expect(live.refresh({ ...picture, at: at(4_000) })).toBe(true);
    expect(live.state().nodes.get(node)?.health).toBe('healthy');
    live.close();
  });

  it('renews the viewer token from the page server before connecting and after a refusal; says plainly when it cannot', async () => {
    const socket = fakeSocket() as ReturnType<typeof fakeSocket> & { connect(): void; connects: number };
    socket.connects = 0;
    socket.connect = () => void socket.connects++;
    let auth: ((cb: (a: { token?: string }) => void) => void) | undefined;
    let n = 0;
    let failing = false;
    const statuses: string[] = [];
    const clock = createFakeClock(0);
    const live = connectLive(
      {
        url: 'http://127.0.0.1:7000',
        token: 'first',
        renew: () =>
          Promise.resolve(failing ? { error: 'wrong operator password' } : { token: `t${++n}`, renewInMs: 60_000 }),
        now: () => 0,
        clock,
        connect: (_url, o) => ((auth = typeof o.auth === 'function' ? o.auth : undefined), socket),
      },
      { onState: () => undefined, onStatus: (s, d) => void statuses.push(d ? `${s}:${d}` : s) },
    );
    const current = () => new Promise<string | undefined>((ok) => auth!((a) => ok(a.token)));
    await Promise.resolve();
    await Promise.resolve();
    expect(await current()).toBe('t1');
    socket.emit('connect_error', new Error('UNAUTHENTICATED: the token expired'));
    await new Promise((r) => setTimeout(r, 0));
    expect(await current()).toBe('t2');
    expect(socket.connects).toBe(1);
    // Before expiry: the server said when (renewInMs of the page's wall clock).
    clock.advance(59_000);
    await new Promise((r) => setTimeout(r, 0));
    expect(await current()).toBe('t2');
    clock.advance(1_000);
    await new Promise((r) => setTimeout(r, 0));
    expect(await current()).toBe('t3');
    failing = true;
    socket.emit('connect', undefined);
    socket.emit('connect_error', new Error('UNAUTHENTICATED: the token expired'));
    await new Promise((r) => setTimeout(r, 0));
    expect(statuses.at(-1)).toBe('unauthorised:the viewer token could not be renewed: wrong operator password');
    socket.emit('connect_error', new Error('UNAUTHENTICATED: viewer-x is suspended'));
    expect(statuses.at(-1)).toBe('unauthorised:the node refused the viewer token: viewer-x is suspended');
    live.close();
  });
});
