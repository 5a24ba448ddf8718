import type { RouteTable } from '../http/route-table.ts';
import { META_ROUTES } from './meta.ts';
import { IDENTIFIER_ROUTES } from './identifiers.ts';
import { ACCOUNT_ROUTES } from './accounts.ts';
import { GOVERNANCE_ROUTES } from './governance.ts';
import { ONBOARDING_ROUTES } from './onboarding.ts';
import { JOINT_DEBUG_ROUTES } from './joint-debug.ts';
import { DOSSIER_ROUTES } from './dossier.ts';
import { RESOURCE_ROUTES } from './resources.ts';
import { EVENT_ROUTES } from '../monitoring/event-log.ts';
import { MONITOR_ROUTES } from '../monitoring/routes.ts';
import { SCHEDULING_ROUTE_TABLE } from '../scheduling/routes.ts';
import { ACCEPTANCE_ROUTE_TABLE, OWN_ACCEPTANCE_ROUTES } from '../acceptance/routes.ts';

/**
 * Every route table of a node, area by area: the rows Express mounts are the rows the OpenAPI document lists
 * (`openApiDocument`), so the two cannot drift. A function: meta's table serves the document built from it.
 */
export function routeTables(): readonly RouteTable<never>[] {
  return [
    META_ROUTES,
    IDENTIFIER_ROUTES,
    ONBOARDING_ROUTES,
    JOINT_DEBUG_ROUTES,
    DOSSIER_ROUTES,
    GOVERNANCE_ROUTES,
    ACCOUNT_ROUTES,
    RESOURCE_ROUTES,
    EVENT_ROUTES,
    MONITOR_ROUTES,
    SCHEDULING_ROUTE_TABLE,
    OWN_ACCEPTANCE_ROUTES,
    ACCEPTANCE_ROUTE_TABLE,
  ] as readonly RouteTable<never>[];
}
