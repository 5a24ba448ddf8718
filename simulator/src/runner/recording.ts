import { io, type Socket } from 'socket.io-client';
import { MonitorEvent, NAMESPACES, PROTOCOL_VERSION, SOCKET_EVENTS, type TopologySnapshot } from '@cpnet/protocol';
import { issueHandshakeToken } from '@cpnet/security';
import { createRecorder } from '../record/recorder.ts';
import { now, type RunContext } from './context.ts';
import { systemClock } from '@cpnet/kernel/system';

/** Receives the recording's JSON lines. */
export type RecordingSink = (line: string) => void;

type NodeView = {
  lifecycle: TopologySnapshot['nodes'][number]['lifecycle'];
  health: 'healthy' | 'degraded' | 'down';
};

/**
 * Records a run: subscribes to every running node's `/monitor` stream (as a viewer, with a token obtained the way a
 * person would) and writes its events, in virtual-time order, with a snapshot of the network every 10 s.
 */
export async function attachRecording(ctx: RunContext, options: { sink: RecordingSink; seed: number }) {
  const views = new Map<string, NodeView>();
  const sockets = new Map<string, Socket>();
  const connecting = new Set<string>();
  let identifiers = 0;
  let alerts = 0;
  const recorder = createRecorder({
    header: {
      kind: 'cpnet-recording',
      version: 1,
      protocol: PROTOCOL_VERSION,
      scenario: ctx.scenario.name,
      seed: options.seed,
      startedAt: new Date(ctx.clock.now() - now(ctx)).toISOString(),
      topology: ctx.net.plan,
    },
    sink: options.sink,
    snapshot: () => ({
      at: new Date(ctx.clock.now()).toISOString(),
      nodes: ctx.net.plan.nodes
        .filter((n) => ctx.net.nodes.has(n.code))
        .map((n) => {
          const v = views.get(n.code);
          const running = ctx.net.nodes.get(n.code)?.running ?? false;
          return {
            code: n.code,
            role: n.role,
            name: n.name,
            parent: n.parent,
            province: n.province,
            industry: n.industry,
            lifecycle: v?.lifecycle ?? 'applied',
            health: running ? (v?.health ?? 'healthy') : 'down',
            url: ctx.net.urlOf(n.code),
          };
        }),
      clusters: [],
      links: ctx.net.plan.nodes
        .filter((n) => n.parent && ctx.net.links.get(n.code))
        .map((n) => {
          const f = ctx.net.links.get(n.code)!.up?.faults();
          return {
            from: n.code,
            to: n.parent!,
            health:
              f && f.partition !== 'none'
                ? ('down' as const)
                : f && (f.latencyMs > 0 || f.bandwidthKbps)
                  ? ('degraded' as const)
                  : ('healthy' as const),
            latencyMs: f ? f.latencyMs : null,
          };
        }),
      jobs: [],
      counters: {
        identifiersRegistered: identifiers,
        identifiersResolved: ctx.resolveMs.length,
        jobsByState: {},
        schedulingP50Ms: null,
        schedulingP99Ms: null,
        securityAlerts: alerts,
      },
    }),
  });

  // A node that could not be connected yet (busy, or not online) is tried again, at most every 2 s of real time.
  const nextTry = new Map<string, number>();
  const connect = async (code: string) => {
    const sim = ctx.net.nodes.get(code);
    if (!sim?.running || connecting.has(code) || (nextTry.get(code) ?? 0) > systemClock.now()) return;
    connecting.add(code);
    nextTry.set(code, systemClock.now() + 2000);
    try {
      // A handshake token signed with the node's own key, as its parent's would be: no account, and no password
      // hashing per node (with ~100 nodes, creating viewer accounts and logging in stalled the whole topology).
      const token = await issueHandshakeToken(
        { keyid: code, audience: code, namespace: NAMESPACES.monitor },
        { privateKey: sim.privateKey(), clock: ctx.clock },
      );
      const info = await sim.anon().node();
      if (info.ok) views.set(code, { lifecycle: info.value.lifecycle, health: info.value.health });
      const socket = io(`${sim.url}${NAMESPACES.monitor}`, {
        auth: { token },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      socket.on('connect_error', () => {
        socket.close();
        connecting.delete(code);
      });
      socket.on(SOCKET_EVENTS.event, (raw: unknown) => {
        const { protocol: _protocol, ...rest } = raw as Record<string, unknown>;
        const parsed = MonitorEvent.safeParse(rest);
        if (!parsed.success) return;
        const e = parsed.data;
        if (e.type === 'node.lifecycle' && e.subject)
          views.set(e.subject, {
            lifecycle: (e.data['to'] as NodeView['lifecycle']) ?? 'applied',
            health: views.get(e.subject)?.health ?? 'healthy',
          });
        if (e.type === 'identifier.registered') identifiers++;
        if (e.type === 'security.alert') alerts++;
        recorder.event(Math.max(0, Date.parse(e.at) - (ctx.clock.now() - now(ctx))), e);
      });
      socket.on('disconnect', () => {
        sockets.delete(code);
        connecting.delete(code);
      });
      sockets.set(code, socket);
    } catch {
      connecting.delete(code);
    }
  };

  const tick = () => {
    for (const [code, sim] of ctx.net.nodes)
      if (sim.running && !sockets.has(code) && !code.includes('#')) void connect(code);
    recorder.tick(now(ctx));
  };
  // Wall time: the recorder samples the running network four times a real second.
  const stopTicking = systemClock.setInterval(tick, 250);
  tick();
  return {
    tick,
    close() {
      stopTicking();
      for (const s of sockets.values()) s.close();
      recorder.close(now(ctx));
    },
  };
}
