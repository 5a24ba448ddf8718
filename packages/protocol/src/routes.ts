/** HTTP routes of a node, all under `/cpn/v1`. */
export const ROUTES = {
  node: '/cpn/v1/node',
  certificateRenewal: '/cpn/v1/node/certificate',
  openapi: '/cpn/v1/openapi.json',
  applications: '/cpn/v1/applications',
  application: '/cpn/v1/applications/:id',
  reviews: '/cpn/v1/applications/:id/reviews',
  jointDebug: '/cpn/v1/joint-debug',
  emergency: '/cpn/v1/emergency',
  identifiers: '/cpn/v1/identifiers',
  identifier: '/cpn/v1/identifiers/*id',
  copies: '/cpn/v1/copies',
  providers: '/cpn/v1/providers',
  clusters: '/cpn/v1/clusters',
  summaries: '/cpn/v1/summaries',
  market: '/cpn/v1/market',
  selections: '/cpn/v1/selections',
  jobs: '/cpn/v1/jobs',
  jobBatches: '/cpn/v1/job-batches',
  job: '/cpn/v1/jobs/*id',
  metering: '/cpn/v1/metering',
  events: '/cpn/v1/events',
  monitorSubtree: '/cpn/v1/monitor/subtree',
  monitorClusters: '/cpn/v1/monitor/clusters',
  accounts: '/cpn/v1/accounts',
  tokens: '/cpn/v1/tokens',
  viewerTokens: '/cpn/v1/tokens/viewer',
  health: '/healthz',
  metrics: '/metrics',
} as const;

/** socket.io namespaces. */
export const NAMESPACES = { monitor: '/monitor', gateway: '/gateway', link: '/link' } as const;

/** socket.io event names. */
export const SOCKET_EVENTS = {
  snapshot: 'snapshot',
  event: 'event',
  events: 'events',
  history: 'history',
  report: 'report',
  dispatch: 'dispatch',
  jobUpdate: 'job-update',
  ack: 'ack',
} as const;

/** The default body size limit (1 MiB). */
export const BODY_LIMIT_BYTES = 1024 * 1024;
