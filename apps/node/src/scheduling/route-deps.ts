import type { RouteDeps } from '../http/write-route.ts';
import type { SchedulingService } from './service.ts';

/** What the scheduling routes (tenant-facing and node-to-node) use of the node. */
export type SchedulingRoutesDeps = RouteDeps & {
  readonly service: SchedulingService;
  /** Resolves when the cluster changes announced so far are in the scheduler's view. */
  readonly settled: () => Promise<void>;
};
