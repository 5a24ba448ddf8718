import type { Server } from 'socket.io';
import { connectLink, type LinkConnection } from '@cpnet/client';
import { NAMESPACES, type Health, type HealthEventData } from '@cpnet/protocol';
import { issueHandshakeToken, verifyHandshakeToken } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import { wallClock } from '../deps.ts';
import { knownSigner, peerRow } from '../http/principal.ts';
import { claimedIssuer } from '../http/token-issuer.ts';

/** What `createHealthWatch` uses of the node. */
type HealthWatchDeps = Pick<
  NodeContext,
  'accounts' | 'config' | 'db' | 'deps' | 'events' | 'identity' | 'nonceStore' | 'policy' | 'state'
>;

/** Children's health as their /link connections tell it, and this node's own link to its parent. */
export interface HealthWatch {
  /** A child's health as the link says (null: the child never connected since this node started). */
  childHealth(prefix: string): Health | null;
  /** The parent side: the /link namespace. */
  attach(io: Server): void;
  /**
   * Silence by the node's clock (virtual in a simulation): scheduling heard no summary from a child for its timeout
   * (`down`), or hears one again. Catches a partition shorter than the wall-time pings.
   */
  summaries(child: string, o: { down: boolean; reason: string }): void;
  /** The child side: connects to the parent's /link and keeps it up; announces this node's (re)start. */
  start(): void;
  stop(): void;
}

type Cause = HealthEventData['cause'];

/**
 * Node and link health from the connection itself: a child keeps one socket.io connection to its parent's /link.
 * The parent marks the child down the moment the connection drops (a killed process, a closed node), or when pings go
 * unanswered (`ping timeout`: silence, as in a partition), and healthy again when it reconnects. Each change is a
 * `node.health` and a `link.health` event (forwarded to every ancestor by the event shipper).
 */
export function createHealthWatch(ctx: HealthWatchDeps): HealthWatch {
  const health = new Map<string, Health>();
  const connections = new Map<string, number>();
  let link: LinkConnection | null = null;

  const set = (child: string, to: Health, o: { cause: Cause; reason: string }) => {
    const was = health.get(child) ?? null;
    if (was === to) return;
    health.set(child, to);
    const severity = to === 'down' ? 'warning' : 'info';
    ctx.events.emit('node.health', { subject: child, severity, data: { health: to, was, ...o } });
    ctx.events.emit('link.health', {
      subject: child,
      severity,
      data: { health: to, was, ...o, child, parent: ctx.config.code },
    });
  };

  async function admit(token: string): Promise<{ child: string } | { problem: string }> {
    const iss = claimedIssuer(token);
    if (iss === null) return { problem: 'the token is not a JWT' };
    if ((await peerRow(ctx, iss))?.relation !== 'child')
      return { problem: `${iss} is not a child of ${ctx.config.code}` };
    const signer = await knownSigner(ctx, iss);
    if (!signer) return { problem: `unknown issuer ${iss}` };
    if (signer.principal.status !== 'active') return { problem: `${iss} is ${signer.lifecycle}` };
    const v = await verifyHandshakeToken(token, {
      publicKey: signer.key,
      audience: ctx.config.code,
      namespace: NAMESPACES.link,
      clock: ctx.deps.clock,
      // A session opens on this handshake (not a database write): its nonce is durable before it is accepted.
      nonceStore: ctx.nonceStore.committed,
    });
    return v.ok ? { child: iss } : { problem: v.error };
  }

  return {
    childHealth: (prefix) => health.get(prefix) ?? null,
    summaries(child, o) {
      if (o.down) set(child, 'down', { cause: 'silence', reason: o.reason });
      else if (health.get(child) === 'down' && (connections.get(child) ?? 0) > 0)
        set(child, 'healthy', { cause: 'reconnect', reason: o.reason });
    },
    attach(io) {
      const ns = io.of(NAMESPACES.link);
      ns.use((socket, next) => {
        const token = (socket.handshake.auth as { token?: unknown }).token;
        if (typeof token !== 'string' || token === '')
          return next(new Error('UNAUTHENTICATED: a handshake token is required in auth.token'));
        admit(token).then(
          (r) => {
            if ('problem' in r) return next(new Error(`UNAUTHENTICATED: ${r.problem}`));
            (socket.data as { child?: string }).child = r.child;
            next();
          },
          (e: Error) => next(new Error(`UNAUTHENTICATED: ${e.message}`)),
        );
      });
      ns.on('connection', (socket) => {
        const child = (socket.data as { child: string }).child;
        connections.set(child, (connections.get(child) ?? 0) + 1);
        const was = health.get(child);
        set(child, 'healthy', {
          cause: was === 'down' ? 'reconnect' : 'connection',
          reason: was === 'down' ? `${child} connected again` : `${child} connected`,
        });
        socket.on('disconnect', (why: string) => {
          const left = (connections.get(child) ?? 1) - 1;
          connections.set(child, left);
          // This node closing says nothing about its children.
          if (left > 0 || why === 'server shutting down') return;
          // `ping timeout`: no answer to pings (silence); anything else: the connection itself went away.
          const silent = why === 'ping timeout';
          set(child, 'down', {
            cause: silent ? 'silence' : 'connection',
            reason: silent ? `${child} stopped answering pings` : `the link from ${child} dropped (${why})`,
          });
        });
      });
    },
    start() {
      ctx.events.emit('node.health', {
        subject: ctx.config.code,
        data: { health: 'healthy', was: null, cause: 'restart', reason: `${ctx.config.code} started` },
      });
      const parentUrl = ctx.config.parentUrl;
      const parent = ctx.config.code.split('.').slice(0, -1).join('.');
      if (!parentUrl || !parent) return;
      link = connectLink(parentUrl, {
        retryMs: ctx.config.monitoring.linkRetryMs,
        // Wall time: retrying a refused link is about the network, not the scenario.
        wall: wallClock(ctx.deps),
        token: () =>
          issueHandshakeToken(
            { keyid: ctx.config.code, audience: parent, namespace: NAMESPACES.link },
            { privateKey: ctx.identity.keys.privateKey, clock: ctx.deps.clock, randomBytes: ctx.deps.randomBytes },
          ),
      });
    },
    stop() {
      link?.close();
      link = null;
    },
  };
}
