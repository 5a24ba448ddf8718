import { io, type Socket } from 'socket.io-client';
import {
  MonitorEvent,
  NAMESPACES,
  PROTOCOL_VERSION,
  ROUTES,
  SOCKET_EVENTS,
  TopologySnapshot,
  validate,
} from '@cpnet/protocol';
import { issueHandshakeToken } from '@cpnet/security';
import { createRecorder } from '../record/recorder.ts';
import { now, type RunContext } from './context.ts';
import { systemClock } from '@cpnet/kernel/system';

/** Virtual ms between the root's subtree snapshots (recordings need one at least every 10 s). */
const SUBTREE_EVERY_MS = 5000;
/**
 * Wall ms between them at least: each is a fan-out of signed requests through the hierarchy, and at ×10 speed 5 s of
 * virtual time is half a second; between answers the periodic snapshot carries what was heard last.
 */
const SUBTREE_MIN_WALL_MS = 2000;
/**
 * And at least this many wall ms per cluster and per job the last answer listed: every level of the hierarchy
 * serialises, parses and validates each cluster and each job below it (a job once per node holding a copy) once per
 * fan-out. Measured at full scale (10,093 clusters, bench/README.md "The recorder's subtree polls"): every 2 s they were
 * ~13–19 % of the whole run's CPU; at 0.3 of the scale with ~2,500 jobs listed, polls every 3 s by clusters alone were
 * ~9 % (bench/README.md "Resolutions in front of the app; monitor events in batches; …"). Below 2,000 clusters and jobs (every test's
 * topology, `simulator --small`) the 2 s above holds.
 */
const SUBTREE_WALL_MS_PER_ENTRY = 1;

/** Event ids remembered per generation for de-duplication (two generations are kept). */
const SEEN_GENERATION = 200_000;

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
  // Event ids recorded lately, in two generations so that memory stays bounded on long runs.
  let seen = new Set<string>();
  let older = new Set<string>();
  /** The root node's latest subtree snapshot: clusters, jobs and counters as the nodes hold them. */
  let subtree: TopologySnapshot | null = null;
  const startMs = () => ctx.clock.now() - now(ctx);
  const planNodes = () =>
    // Every planned node from the first snapshot on (Play from the start shows the network); one not started yet is
    // down and still applying.
    ctx.net.plan.nodes.map((n) => {
      const v = views.get(n.code);
      const running = ctx.net.nodes.get(n.code)?.running ?? false;
      const heard = subtree?.nodes.find((x) => x.code === n.code);
      return {
        code: n.code,
        role: n.role,
        name: n.name,
        parent: n.parent,
        province: n.province,
        industry: n.industry,
        // The node's own word first (its lifecycle events, as they happen); the root's subtree answer lists only
        // approved children, and its periodic answer can be seconds behind a transition.
        lifecycle: v?.lifecycle ?? heard?.lifecycle ?? 'applied',
        health: running ? (heard?.health ?? v?.health ?? 'healthy') : ('down' as const),
        url: ctx.net.nodes.has(n.code) ? ctx.net.urlOf(n.code) : null,
      };
    });
  // `t`: the virtual ms since the start the snapshot is written at; its `at` says the same moment.
  const buildSnapshot = (t = now(ctx)) => ({
    at: new Date(startMs() + t).toISOString(),
    nodes: planNodes(),
    clusters: subtree?.clusters ?? [],
    clusterGroups: subtree?.clusterGroups ?? [],
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
    jobs: subtree?.jobs ?? [],
    counters: {
      identifiersRegistered: Math.max(identifiers, subtree?.counters.identifiersRegistered ?? 0),
      identifiersResolved: ctx.resolveMs.length,
      jobsByState: subtree?.counters.jobsByState ?? {},
      schedulingP50Ms: subtree?.counters.schedulingP50Ms ?? null,
      schedulingP99Ms: subtree?.counters.schedulingP99Ms ?? null,
      securityAlerts: subtree?.counters.securityAlerts ?? alerts,
    },
  });
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
    snapshot: buildSnapshot,
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
        // Live events in batches (one `events` message per turn of the node's event loop): one frame and one socket
        // write for many, at the node and here. A node that does not know `batch` sends `event` messages.
        auth: { token, batch: true },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      // A transition between reading NodeInfo above and the socket's connecting would be missed: read it again.
      socket.on('connect', () => {
        void sim
          .anon()
          .node()
          .then((again) => {
            if (again.ok) views.set(code, { lifecycle: again.value.lifecycle, health: again.value.health });
          })
          .catch(() => undefined);
      });
      socket.on('connect_error', () => {
        socket.close();
        connecting.delete(code);
      });
      socket.on(SOCKET_EVENTS.events, (raw: unknown) => {
        const events = (raw as { events?: unknown } | null)?.events;
        if (Array.isArray(events)) for (const e of events) onEvent(e);
      });
      socket.on(SOCKET_EVENTS.event, onEvent);
      socket.on('disconnect', () => {
        sockets.delete(code);
        connecting.delete(code);
      });
      sockets.set(code, socket);
    } catch {
      connecting.delete(code);
    }
  };

  function onEvent(raw: unknown): void {
    const { protocol: _protocol, ...rest } = raw as Record<string, unknown>;
    // A copy of an event already recorded (forwarded ones come from every ancestor) is dropped before it is
    // parsed; the first copy is parsed once and written as parsed.
    if (typeof rest['id'] === 'string' && (seen.has(rest['id']) || older.has(rest['id']))) return;
    const parsed = MonitorEvent.safeParse(rest);
    if (!parsed.success) return;
    const e = parsed.data;
    // A forwarded event reaches the recorder once from its node and once from every ancestor: recorded once.
    if (seen.has(e.id) || older.has(e.id)) return;
    seen.add(e.id);
    if (seen.size >= SEEN_GENERATION) {
      older = seen;
      seen = new Set();
    }
    if (e.type === 'node.lifecycle' && e.subject)
      views.set(e.subject, {
        lifecycle: (e.data['to'] as NodeView['lifecycle']) ?? 'applied',
        health: views.get(e.subject)?.health ?? 'healthy',
      });
    if (e.type === 'identifier.registered') identifiers++;
    if (e.type === 'security.alert' && e.data['threat'] !== false) alerts++;
    recorder.checkedEvent(Math.max(0, Date.parse(e.at) - (ctx.clock.now() - now(ctx))), e);
  }

  // The root's subtree snapshot, asked for every few seconds of virtual time (one request in flight at most) and
  // written at the virtual time it describes, so that a snapshot at t holds what the nodes held at t.
  let asking = false;
  let nextAsk = 0;
  let nextAskWall = 0;
  const askSubtree = async () => {
    const root = ctx.net.plan.nodes.find((n) => n.parent === null);
    const sim = root ? ctx.net.nodes.get(root.code) : undefined;
    if (!sim?.running || asking || now(ctx) < nextAsk || systemClock.now() < nextAskWall) return;
    asking = true;
    nextAsk = now(ctx) + SUBTREE_EVERY_MS;
    const entries =
      (subtree?.clusters.length ?? 0) +
      (subtree?.clusterGroups.reduce((n, g) => n + g.clusters, 0) ?? 0) +
      (subtree?.jobs.length ?? 0);
    nextAskWall = systemClock.now() + Math.max(SUBTREE_MIN_WALL_MS, entries * SUBTREE_WALL_MS_PER_ENTRY);
    try {
      const r = await sim.self().request({ method: 'GET', path: `${ROUTES.monitorSubtree}?waitMs=2000`, sign: true });
      const v = r.ok ? validate(TopologySnapshot, r.value) : null;
      if (v?.ok) {
        subtree = v.value;
        recorder.checkedParts(v.value);
        const s = buildSnapshot();
        recorder.snapshotAt(Math.max(0, Date.parse(v.value.at) - startMs()), { ...s, at: v.value.at });
      }
    } catch {
      // The root is busy or down: the periodic snapshot uses what was heard last.
    } finally {
      asking = false;
    }
  };
  const tick = () => {
    for (const [code, sim] of ctx.net.nodes)
      if (sim.running && !sockets.has(code) && !code.includes('#')) void connect(code);
    void askSubtree();
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
