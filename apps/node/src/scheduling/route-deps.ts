import type { RouteDeps } from '../http/write-route.ts';
import type { SchedulingService } from './service.ts';

/** What the scheduling routes (tenant-facing and node-to-node) use of the node. */
export type SchedulingRoutesDeps = RouteDeps & {
  readonly service: SchedulingService;
  /** Brings the cluster view up to date before a selection or placement. */
  readonly sync: () => Promise<void>;
};
