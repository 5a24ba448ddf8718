import { mkdirSync } from 'node:fs';
import { createServer, type RequestListener, type Server as HttpServer } from 'node:http';
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import { Server } from 'socket.io';
import { createSerialAllocator } from '@cpnet/identifier';
import { stopwatch } from '@cpnet/kernel/system';
import { createClient, type NodeClient } from '@cpnet/client';
import { checkProtocolVersion, errorBody, PROTOCOL_HEADER, type NodeLifecycle } from '@cpnet/protocol';
import { b64url, createPolicy, jwkThumbprint } from '@cpnet/security';
import { openSqliteStores } from './store/stores.ts';
import { openPostgresStores } from './store/postgres-stores.ts';
import type { NodeStores } from './store/stores.ts';
import { NodeConfig, type NodeConfigInput } from './config.ts';
import { wallClock, type NodeDeps } from './deps.ts';
import type { NodeContext, NodeState } from './context.ts';
import { loadSettings } from './store/settings.ts';
import { checkDatabasePresent, checkIdentityMarker, checkKeyPresent } from './store/identity-marker.ts';
import { durableNonceStore } from './store/nonces.ts';
import { loadIdentity } from './identity.ts';
import { openAuditTrail } from './audit.ts';
import { createEventBus } from './events.ts';
import { createMetrics } from './metrics.ts';
import { createAnswerCache } from './identifiers/cache.ts';
import { createHopHealth } from './identifiers/hops.ts';
import { createOutbox, type Outbox } from './links/outbox.ts';
import { faultyMemberOrders, faultyOutbox } from './faults.ts';
import { createTlsLinks } from './links/tls.ts';
import { errorHandler, notFound } from './http/http-error.ts';
import { answerClientErrors } from './http/client-error.ts';
import { securityHeaders } from './http/security-headers.ts';
import { fastResolve } from './http/fast-resolve.ts';
import { oneRouter } from './http/route-table.ts';
import { answerWhenDurable } from './http/durable-answers.ts';
import { metaRoutes } from './routes/meta.ts';
import { openApiDocument } from './openapi.ts';
import { identifierRoutes } from './routes/identifiers.ts';
import { onboardingRoutes } from './routes/onboarding.ts';
import { jointDebugRoutes } from './routes/joint-debug.ts';
import { dossierRoutes } from './routes/dossier.ts';
import { guideOf } from './onboarding/guide-file.ts';
import { governanceRoutes } from './routes/governance.ts';
import { acceptanceRoutes } from './acceptance/routes.ts';
import { startAcceptanceSweep } from './acceptance/service.ts';
import { accountRoutes } from './routes/accounts.ts';
import { attachMonitor } from './monitor.ts';
import { startApplicant } from './onboarding/applicant.ts';
import { startCertificateRenewal } from './onboarding/renewal.ts';
import { startAutoReviewRetries } from './onboarding/review.ts';
import { createResourceServices, type ResourceServices } from './aggregation/resources.ts';
import type { MemberOrders } from './aggregation/emergency.ts';
import { createSchedulingServices, type SchedulingServices } from './scheduling/node-services.ts';
import { buildSnapshot } from './monitoring/snapshot.ts';
import { createSubtreeSnapshots } from './monitoring/subtree.ts';
import { monitorRoutes } from './monitoring/routes.ts';
import { createHealthWatch } from './monitoring/health-watch.ts';
import { historyFor } from './monitoring/history.ts';
import { startTlsDiscovery } from './links/tls-discovery.ts';
import { ensureOwnNodeRecord } from './onboarding/own-record.ts';

/** A built node: the Express app, the HTTP server with socket.io, and its context. It does not listen until asked. */
export interface CpnNode {
  readonly app: Express;
  readonly server: HttpServer;
  readonly io: Server;
  readonly context: NodeContext;
  /** Resource aggregation, the /gateway hub and monitoring (providers, clusters, summaries, market, events). */
  readonly resources: ResourceServices;
  /** Scheduling: selections, jobs, dispatch, failover, metering. */
  readonly scheduling: SchedulingServices;
  /** Listens (port 0 picks a free one) and starts the background work (applying, copies); resolves with the URL. */
  listen(): Promise<string>;
  /** Graceful shutdown: stop background work, close sockets and the server, close the database. */
  close(): Promise<void>;
}

/** Thrown for an invalid configuration, with the field and the reason (the CLI exits 2). */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Validates a configuration input, throwing ConfigError naming the field. */
export function parseConfig(input: NodeConfigInput): NodeConfig {
  const r = NodeConfig.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  throw new ConfigError(`${field || 'config'}: ${issue?.message ?? 'invalid'}`, field);
}

function initialLifecycle(config: NodeConfig, stored: string | undefined): NodeLifecycle {
  if (stored) return stored as NodeLifecycle;
  return config.role === 'national' ? 'online' : 'applied';
}

/** What a node is built from besides its configuration. */
export interface NodeParts {
  /** Time, logs and randomness. */
  readonly deps: NodeDeps;
  /**
   * The node's persistence. When given, the caller owns it (the node does not close it); when absent, the SQLite
   * database `node.db` in the configured data folder is opened (created and migrated) and closed with the node.
   */
  readonly db?: NodeStores;
}

/**
 * Builds a node from its configuration and its parts (`createNode(config, { deps, db })`; passing the deps alone is
 * the same as `{ deps }`): database opened and migrated unless given, routes mounted; not listening.
 */
export async function createNode(input: NodeConfigInput, parts: NodeParts | NodeDeps): Promise<CpnNode> {
  const config = parseConfig(input);
  // A guide that cannot be read stops the start (ConfigError, the CLI exits 2) before the database is touched.
  try {
    guideOf(config);
  } catch (e) {
    throw new ConfigError((e as Error).message, 'guideFile');
  }
  const { deps, db: given } = 'deps' in parts ? parts : { deps: parts, db: undefined };
  const dbFile = path.join(config.dataDir, 'node.db');
  if (!given && !config.database) checkDatabasePresent(config.dataDir, dbFile);
  // On SQLite opening node.db makes the folder; on PostgreSQL the folder still holds the key's passphrase, the
  // identity marker and the trust anchor.
  if (!given && config.database) mkdirSync(config.dataDir, { recursive: true });
  const db =
    given ??
    (config.database
      ? await openPostgresStores(config.database, { work: deps.databaseWork })
      : await openSqliteStores(dbFile, { durability: config.durability, cacheKib: config.sqliteCacheKib }));
  const closeDb = given ? () => Promise.resolve() : () => db.close();
  try {
    const settings = await loadSettings(db);
    checkKeyPresent(config.dataDir, settings.get('key.private') !== undefined);
    const identity = await loadIdentity(settings, { config, deps });
    checkIdentityMarker(config.dataDir, { code: config.code, thumbprint: jwkThumbprint(identity.keys.publicKey) });
    const state: NodeState = {
      lifecycle: initialLifecycle(config, settings.get('lifecycle')),
      health: 'healthy',
      startedAt: deps.clock.now(),
      url: config.publicUrl ?? null,
    };
    const metrics = createMetrics(config.code);
    const events = createEventBus(db, { deps, code: config.code });
    const clients = new Map<string, NodeClient>();
    const tls = createTlsLinks({ config, deps, identity, onChange: (endpoint) => clients.delete(endpoint) });
    // A peer is reached over TLS once its https endpoint is known (tls.route), with the national root as CA.
    const clientFor = (endpoint: string) => {
      let c = clients.get(endpoint);
      if (!c) {
        const route = tls.route(endpoint);
        c = createClient({
          baseUrl: route?.url ?? endpoint,
          ...(route ? { tls: route.tls } : {}),
          signer: { keyid: config.code, privateKey: identity.keys.privateKey },
          clock: deps.clock,
          wall: wallClock(deps),
          randomBytes: deps.randomBytes,
          timeoutMs: config.linkTimeoutMs,
        });
        clients.set(endpoint, c);
      }
      return c;
    };
    const accounts = new Map(
      (await db.accounts.all()).map((a) => [a.id, { role: a.role, status: a.status as 'active' }]),
    );
    const outbox: Outbox = faultyOutbox(
      createOutbox({
        db,
        clock: deps.clock,
        wall: wallClock(deps),
        logger: deps.logger,
        clientFor,
        retry: config.retry,
        lingerMs: config.outboxLingerMs,
        onDelivered: (p, n) => metrics.delivered.inc({ path: p }, n),
        onFailed: (p) => metrics.deliveryFailed.inc({ path: p }),
        onRefused: (r) =>
          events.emit('security.alert', {
            subject: r.path,
            severity: 'critical',
            data: {
              kind: 'dead-letter',
              reason: `${r.endpoint}${r.path} refused a delivery for good (${r.status})`,
              source: config.code,
              target: `${r.endpoint}${r.path}`,
              threat: true,
              alert: 'outbox.dead-letter',
              endpoint: r.endpoint,
              status: r.status,
              answer: r.answer,
              retry: `cpnet node outbox retry --data ${config.dataDir}`,
            },
          }),
      }),
      deps.faults,
    );
    const context: NodeContext = {
      config,
      deps,
      db,
      settings,
      identity,
      state,
      metrics,
      events,
      accounts,
      outbox,
      tls,
      audit: await openAuditTrail(db, { deps, identity, code: config.code }),
      policy: await createPolicy(),
      nonceStore: durableNonceStore(db, deps.clock),
      cache: createAnswerCache(config.cacheEntries, deps.clock),
      hops: createHopHealth(wallClock(deps), config.resolution.hopDownMs),
      serials: createSerialAllocator({ clock: deps.clock, after: settings.get('serial.last') ?? null }),
      clientFor,
      endpoint: () => state.url ?? `http://${config.host}:${config.port}`,
      async setLifecycle(lifecycle, reason) {
        if (state.lifecycle === lifecycle) return;
        const from = state.lifecycle;
        state.lifecycle = lifecycle;
        await settings.set('lifecycle', lifecycle);
        deps.logger.info({ from, to: lifecycle, reason }, 'lifecycle changed');
        events.emit('node.lifecycle', {
          subject: config.code,
          data: { from, to: lifecycle, ...(reason ? { reason } : {}) },
        });
      },
    };
    const resources = await createResourceServices(context);
    return assemble(context, {
      closeDb,
      resources,
      scheduling: await createSchedulingServices(context, resources),
      attachTls: tls.attach,
    });
  } catch (e) {
    await closeDb();
    throw e;
  }
}

/** The app, and the server's request listener: the fast resolve path in front of it. */
function buildApp(
  ctx: NodeContext,
  parts: { routers: Router[]; memberOrders: MemberOrders },
): { app: Express; listener: RequestListener } {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const security = securityHeaders();
  // Request ids: a random per-node prefix and a counter — unique, and no randomness drawn per request.
  const idPrefix = b64url(ctx.deps.randomBytes(6));
  let requestCount = 0;
  const requestId = () => `${idPrefix}${(++requestCount).toString(36)}`;
  const end = answerWhenDurable(app, ctx.db, [...security.headers.map(([name]) => name), 'x-request-id']);
  const fast = fastResolve(ctx, { headers: security.headers, requestId, end });
  app.use(fast.failures);
  app.use(security.middleware);
  app.use((req, res, next) => {
    // Wall time: a request's latency is a performance figure of the machine, in a simulation too.
    const elapsed = stopwatch();
    res.locals.requestId = requestId();
    res.setHeader('x-request-id', res.locals.requestId as string);
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      ctx.metrics.requests.inc({ method: req.method, route: String(route), status: String(res.statusCode) });
      ctx.metrics.duration.observe({ method: req.method, route: String(route) }, elapsed() / 1000);
    });
    const version = req.headers[PROTOCOL_HEADER];
    if (version !== undefined) {
      const v = checkProtocolVersion(String(version));
      if (!v.ok) {
        res.status(400).json(errorBody('UNSUPPORTED_VERSION', v.reason, PROTOCOL_HEADER));
        return;
      }
    }
    next();
  });
  app.use(
    oneRouter([
      metaRoutes(ctx, openApiDocument),
      identifierRoutes(ctx),
      onboardingRoutes(ctx),
      jointDebugRoutes(ctx),
      dossierRoutes(ctx),
      governanceRoutes(ctx, { memberOrders: parts.memberOrders }),
      accountRoutes(ctx),
      acceptanceRoutes(ctx),
      ...parts.routers,
    ]),
  );
  app.use(notFound);
  app.use(errorHandler(ctx.deps.logger));
  return { app, listener: fast.listener(app) };
}

function assemble(
  ctx: NodeContext,
  parts: {
    closeDb: () => Promise<void>;
    resources: ResourceServices;
    scheduling: SchedulingServices;
    attachTls: (server: HttpServer) => void;
  },
): CpnNode {
  const { closeDb, resources, scheduling } = parts;
  const healthWatch = createHealthWatch(ctx);
  scheduling.service.onChildHealth = (child, o) => healthWatch.summaries(child, o);
  const subtree = createSubtreeSnapshots({ ...ctx, childHealth: healthWatch.childHealth }, () =>
    buildSnapshot(ctx, {
      aggregation: resources.aggregation,
      sources: resources.snapshotSources,
      childHealth: healthWatch.childHealth,
    }),
  );
  const { app, listener } = buildApp(ctx, {
    routers: [...resources.routes(), ...scheduling.routes(), monitorRoutes(ctx, subtree)],
    memberOrders: faultyMemberOrders(resources.memberOrders, ctx.deps.faults),
  });
  const server = createServer(listener);
  // Wall time. Longer than a peer's client keeps an idle connection (60 s, `@cpnet/client`), so the client closes
  // first: links that talk every few seconds (summaries, relays, heartbeats) keep one connection — and one TLS
  // handshake — instead of a new one after every 5 s of quiet (Node's default).
  server.keepAliveTimeout = ctx.config.keepAliveMs;
  answerClientErrors(server);
  parts.attachTls(server);
  const io = new Server(server, {
    serveClient: false,
    maxHttpBufferSize: ctx.config.bodyLimitBytes,
    // Wall time: how soon a silent peer (a partition) is noticed on every socket, the /link of children included.
    pingInterval: ctx.config.monitoring.linkPingMs,
    pingTimeout: ctx.config.monitoring.linkPingTimeoutMs,
  });

  healthWatch.attach(io);
  attachMonitor(io, ctx, { snapshot: () => subtree.build(), history: () => historyFor(ctx) });
  resources.attach(io);
  scheduling.attach();
  let stopApplicant: (() => void) | null = null;
  let stopRenewal: (() => void) | null = null;
  let stopAutoReview: (() => void) | null = null;
  let stopAcceptanceSweep: (() => void) | null = null;
  let stopTlsDiscovery: (() => void) | null = null;
  let closed = false;
  return {
    app,
    server,
    io,
    context: ctx,
    resources,
    scheduling,
    listen() {
      return new Promise((resolve, reject) => {
        // Either outcome takes the other's listener off, so a caller may retry a listen that failed (EADDRINUSE).
        const onError = (e: Error) => {
          server.off('listening', onListening);
          reject(e);
        };
        const onListening = () => {
          server.off('error', onError);
          const address = server.address();
          const port = typeof address === 'object' && address ? address.port : ctx.config.port;
          ctx.state.url = ctx.config.publicUrl ?? `http://${ctx.config.host}:${port}`;
          ctx.deps.logger.info(
            { url: ctx.state.url, code: ctx.config.code, role: ctx.config.role, lifecycle: ctx.state.lifecycle },
            'node listening',
          );
          ctx.outbox.kick();
          stopTlsDiscovery = startTlsDiscovery(ctx);
          resources.start();
          if (ctx.config.role !== 'national') {
            stopApplicant = startApplicant(ctx);
            stopRenewal = startCertificateRenewal(ctx);
          }
          stopAutoReview = startAutoReviewRetries(ctx);
          stopAcceptanceSweep = startAcceptanceSweep(ctx);
          const url = ctx.state.url;
          // The HTTPS listener starts now when this node holds a certificate (the national node), else after its grant.
          ctx.tls
            .serve()
            // After the TLS listener, so the national node's own ND record carries its https endpoint too.
            .then(() => ensureOwnNodeRecord(ctx))
            .then(() => scheduling.start())
            .then(() => healthWatch.start())
            .then(() => resolve(url), reject);
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(ctx.config.port, ctx.config.host);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      healthWatch.stop();
      stopApplicant?.();
      stopRenewal?.();
      stopAutoReview?.();
      stopAcceptanceSweep?.();
      stopTlsDiscovery?.();
      scheduling.stop();
      await resources.stop();
      ctx.outbox.stop();
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
        server.closeAllConnections();
      });
      await ctx.tls.close();
      await ctx.audit
        .record({
          who: ctx.config.code,
          action: 'shutdown',
          resource: `node:${ctx.config.code}`,
          decision: 'allow',
          requestId: '-',
        })
        .catch(() => undefined);
      await closeDb();
    },
  };
}
