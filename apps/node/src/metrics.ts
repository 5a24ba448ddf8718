import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The node's Prometheus metrics, in a registry of its own (many nodes share a process in the simulator). */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly resolutions: Counter<'source'>;
  readonly registrations: Counter;
}

/** Creates a fresh registry and the node's metrics, labelled with the node code. */
export function createMetrics(code: string): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: code });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({ name: 'cpn_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    duration: new Histogram({ name: 'cpn_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registers: [registry] }),
    resolutions: new Counter({ name: 'cpn_resolutions_total', help: 'identifier resolutions by source (local, cache, down, up, copy)', labelNames: ['source'], registers: [registry] }),
    registrations: new Counter({ name: 'cpn_registrations_total', help: 'identifiers registered at this node', registers: [registry] }),
  };
}
