import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { stopwatch } from '@cpnet/kernel/system';

/** The node's Prometheus metrics, in a registry of its own (many nodes share a process in the simulator). */
export interface NodeMetrics {
  /** The node's own series (`cpn_*`), labelled with its code. */
  readonly registry: Registry;
  /** What `/metrics` answers: the node's series, then its process's (`process_*`, `nodejs_*`; see `hostMetrics`). */
  exposition(): Promise<string>;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly resolutions: Counter<'source'>;
  readonly registrations: Counter;
  /** Signed requests refused for a missing or bad signature (401), by reason code. */
  readonly signatureFailures: Counter<'code'>;
  /** Signed requests refused because their nonce was already seen. */
  readonly replaysRefused: Counter;
  /** Cluster report entries applied from gateways. */
  readonly reports: Counter;
  readonly reportsUnchanged: Counter;
  /** Deliveries waiting in the outbox (set when scraped). */
  readonly outboxDepth: Gauge;
  /** Clusters per health (set when scraped). */
  readonly clusterHealth: Gauge<'health'>;
  /** Outbox deliveries completed. */
  readonly delivered: Counter<'path'>;
  /** Outbox delivery attempts that failed and will be retried. */
  readonly deliveryFailed: Counter<'path'>;
  /** Peers the outbox is backing off from (set when scraped). */
  readonly peersBackingOff: Gauge;
  /** Where scrape-time gauges read their values; set by the parts that own them. */
  readonly probes: {
    outboxDepth?: () => Promise<number>;
    clusterHealth?: () => Record<string, number>;
    peersBackingOff?: () => number;
  };
}

let host: Registry | null = null;
/** The host series as last read, and the wall time since: every node of the thread answers them, read once a second. */
let hostText: { age: () => number; text: Promise<string> } | null = null;

/**
 * The process's series for a scrape: read at most once a second of wall time and shared by the thread's nodes. They
 * describe the process, whichever node is asked; reading them costs the most where many nodes share one process —
 * `process_open_fds` lists /proc/self/fd, thousands of sockets and files in the simulator, where every node of the
 * hierarchy scrapes its parent's and the national node's /metrics in its joint-debugging checks (4 % of the busiest
 * thread's start-up, bench/README.md "The start-up").
 */
function hostExposition(shared: Registry): Promise<string> {
  if (!hostText || hostText.age() >= 1000) {
    const text = shared.metrics();
    // A failed reading is not kept: the next scrape reads again.
    text.catch(() => (hostText = null));
    hostText = { age: stopwatch(), text };
  }
  return hostText.text;
}

/**
 * prom-client's default metrics (CPU, memory, heap, event-loop delay, GC) describe the process and thread a node runs
 * in, not the node: one registry of them per thread, made at the first node, shared by every node of the thread and
 * not labelled with a node (a node alone in its process — production — shows its own process). One set per node cost
 * ~0.35 MiB (the event-loop-delay histogram) and a GC observer called at every collection: in the scale run, 47 sets
 * per thread measuring the same thing.
 */
export function hostMetrics(): Registry {
  if (!host) {
    host = new Registry();
    collectDefaultMetrics({ register: host });
  }
  return host;
}

/** Creates a fresh registry and the node's metrics, labelled with the node code. */
export function createMetrics(code: string): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: code });
  const shared = hostMetrics();
  const probes: NodeMetrics['probes'] = {};
  return {
    probes,
    registry,
    async exposition() {
      return `${await registry.metrics()}${await hostExposition(shared)}`;
    },
    requests: new Counter({
      name: 'cpn_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'cpn_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    resolutions: new Counter({
      name: 'cpn_resolutions_total',
      help: 'identifier resolutions by source (local, cache, down, up, copy)',
      labelNames: ['source'],
      registers: [registry],
    }),
    registrations: new Counter({
      name: 'cpn_registrations_total',
      help: 'identifiers registered at this node',
      registers: [registry],
    }),
    signatureFailures: new Counter({
      name: 'cpn_signature_failures_total',
      help: 'requests refused for a missing or bad signature or token',
      labelNames: ['code'],
      registers: [registry],
    }),
    replaysRefused: new Counter({
      name: 'cpn_replays_refused_total',
      help: 'signed requests refused because the nonce was already seen',
      registers: [registry],
    }),
    reports: new Counter({
      name: 'cpn_cluster_reports_total',
      help: 'cluster report entries applied from gateways',
      registers: [registry],
    }),
    reportsUnchanged: new Counter({
      name: 'cpn_cluster_reports_unchanged_total',
      help: 'of those, entries a gateway named unchanged (report-unchanged) instead of sending them again',
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: 'cpn_outbox_depth',
      help: 'deliveries waiting in the outbox',
      registers: [registry],
      async collect() {
        if (probes.outboxDepth) this.set(await probes.outboxDepth());
      },
    }),
    clusterHealth: new Gauge({
      name: 'cpn_clusters',
      help: 'clusters by health',
      labelNames: ['health'],
      registers: [registry],
      collect() {
        for (const [health, n] of Object.entries(probes.clusterHealth?.() ?? {})) this.set({ health }, n);
      },
    }),
    delivered: new Counter({
      name: 'cpn_outbox_delivered_total',
      help: 'outbox deliveries completed, by path',
      labelNames: ['path'],
      registers: [registry],
    }),
    deliveryFailed: new Counter({
      name: 'cpn_outbox_failed_total',
      help: 'outbox delivery attempts that failed and will be retried (unreachable, timed out, 5xx, 401, 429), by path',
      labelNames: ['path'],
      registers: [registry],
    }),
    peersBackingOff: new Gauge({
      name: 'cpn_outbox_peers_backing_off',
      help: 'peers the outbox is backing off from after a failed delivery (their deliveries wait; the others go on)',
      registers: [registry],
      collect() {
        if (probes.peersBackingOff) this.set(probes.peersBackingOff());
      },
    }),
  };
}
