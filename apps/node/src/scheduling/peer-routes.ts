import {
  JobCancelRelay,
  JobRelayBody,
  MeteringSummary,
  PlacementBody,
  PlacementReply,
  Received,
  RelayAnswer,
  SCHEDULING_ROUTES,
  SchedulingSummary,
  SelectionRelay,
  SelectionRelayAnswer,
  SummaryAnswer,
} from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import type { Caller } from '../http/authenticate.ts';
import { fail } from '../http/http-error.ts';
import { peerRow } from '../http/principal.ts';
import { defineRoute, type RouteTable } from '../http/route-table.ts';
import type { SchedulingRoutesDeps } from './route-deps.ts';

const route = defineRoute<SchedulingRoutesDeps>();

/** A peer node calling: the parent or a child of this node, else 403. Returns the resource prefix to authorise. */
async function peerCaller(ctx: Pick<NodeContext, 'config' | 'db'>, caller: Caller): Promise<string> {
  if (caller.principal.kind !== 'node') fail('FORBIDDEN', 'only a parent or child node may call this');
  const peer = await peerRow(ctx, caller.principal.id);
  if (!peer || (peer.relation !== 'parent' && peer.relation !== 'child'))
    fail('FORBIDDEN', `${caller.principal.id} is neither the parent nor a child of ${ctx.config.code}`);
  return peer.relation === 'parent' ? ctx.config.code : caller.principal.id;
}

/** The policy request of a node-to-node scheduling call: `place` on jobs under the prefix the peer may speak for. */
const peerAccess = {
  action: 'place',
  resource: 'job',
  rule: 'the parent or a child node; the policy: `place` on jobs of this node (parent) or of the child',
} as const;
const peerAuthorize = async ({ env, caller }: { env: SchedulingRoutesDeps; caller: Caller | null }) => ({
  principal: caller!.principal,
  action: 'place' as const,
  resource: { type: 'job' as const, prefix: await peerCaller(env, caller!) },
});
/** Node-to-node scheduling traffic is not audited per call; the jobs it moves keep their own history. */
const PEER_AUDIT = 'none (node-to-node scheduling traffic; each job keeps its history)';
const PEER_ERRORS = { 403: 'the caller is neither the parent nor a child, or the policy refuses' };

/** The node-to-node half of the scheduling area: the body is validated, then the peer and the policy are checked. */
export const SCHEDULING_PEER_ROUTES: RouteTable<SchedulingRoutesDeps> = [
  route({
    operationId: 'placeJobs',
    method: 'post',
    path: SCHEDULING_ROUTES.placements,
    tag: 'scheduling',
    summary:
      'Node to node: place a job, or a batch of jobs (escalation up, or the parent asking the owning child down)',
    auth: 'required',
    body: PlacementBody,
    responses: { 200: { description: 'Each placement’s answer', schema: PlacementReply } },
    errors: PEER_ERRORS,
    access: peerAccess,
    audit: PEER_AUDIT,
    authorize: peerAuthorize,
    handle: async ({ env, caller, body: input }) => {
      const from = caller!.principal.id;
      await env.settled();
      if (!('placements' in input)) return [200, await env.service.onPlacement(input, from)];
      // Each placement is placed on its own (its own lock and answer); they share the commits of one turn.
      return [200, { answers: await Promise.all(input.placements.map((p) => env.service.onPlacement(p, from))) }];
    },
  }),
  route({
    operationId: 'relaySelection',
    method: 'post',
    path: SCHEDULING_ROUTES.selections,
    tag: 'scheduling',
    summary: 'Node to node: a relayed dry-run selection',
    auth: 'required',
    body: SelectionRelay,
    responses: { 200: { description: 'The candidates of this subtree', schema: SelectionRelayAnswer } },
    errors: PEER_ERRORS,
    access: peerAccess,
    audit: PEER_AUDIT,
    authorize: peerAuthorize,
    handle: async ({ env, body }) => {
      await env.settled();
      return [200, await env.service.onSelectionRelay(body)];
    },
  }),
  route({
    operationId: 'relayJobUpdates',
    method: 'post',
    path: SCHEDULING_ROUTES.jobUpdates,
    tag: 'scheduling',
    summary: 'Node to node: job history relayed toward the origin',
    auth: 'required',
    body: JobRelayBody,
    responses: { 200: { description: 'Whether each relay applied', schema: RelayAnswer } },
    errors: PEER_ERRORS,
    access: peerAccess,
    audit: PEER_AUDIT,
    authorize: peerAuthorize,
    handle: async ({ env, body: input }) => {
      if (!('relays' in input)) return [200, { accepted: await env.service.onRelay(input) }];
      // Relays of different jobs apply concurrently (their writes share one commit); one job's keep their order.
      return [200, { accepted: await Promise.all(input.relays.map((r) => env.service.onRelay(r))) }];
    },
  }),
  route({
    operationId: 'relayCancel',
    method: 'post',
    path: SCHEDULING_ROUTES.cancels,
    tag: 'scheduling',
    summary: 'Node to node: a cancellation relayed toward the owner',
    auth: 'required',
    body: JobCancelRelay,
    responses: { 200: { description: 'Whether it applied', schema: RelayAnswer } },
    errors: PEER_ERRORS,
    access: peerAccess,
    audit: PEER_AUDIT,
    authorize: peerAuthorize,
    handle: async ({ env, caller, body }) => [
      200,
      { accepted: await env.service.onCancelRelay(body, caller!.principal.id) },
    ],
  }),
  route({
    operationId: 'schedulingSummary',
    method: 'post',
    path: SCHEDULING_ROUTES.summaries,
    tag: 'scheduling',
    summary: "Node to node: a 1.0 child's scheduling summary (also its heartbeat)",
    description:
      "The answer carries the whole hierarchy's ceiling, so the child can refuse impossible jobs at once. A child " +
      'whose parent advertised the `one-summary` capability sends these figures in `ext.scheduling` of its subtree ' +
      'summary (`POST /cpn/v1/summaries`) instead; this route stays for 1.0 children.',
    auth: 'required',
    body: SchedulingSummary,
    responses: { 200: { description: 'Received, with the hierarchy’s ceiling', schema: SummaryAnswer } },
    errors: PEER_ERRORS,
    access: peerAccess,
    audit: PEER_AUDIT,
    authorize: peerAuthorize,
    handle: ({ env, caller, body }) => {
      env.service.onSummary(body, caller!.principal.id);
      const ceiling = env.service.hierarchyCeiling();
      return [200, { accepted: true, ...(ceiling ? { ceiling } : {}) }];
    },
  }),
  route({
    operationId: 'childMetering',
    method: 'post',
    path: SCHEDULING_ROUTES.metering,
    tag: 'scheduling',
    summary: "Node to node: a child's metering totals",
    auth: 'required',
    body: MeteringSummary,
    responses: { 200: { description: 'Stored', schema: Received } },
    errors: PEER_ERRORS,
    access: peerAccess,
    audit: PEER_AUDIT,
    authorize: peerAuthorize,
    handle: async ({ env, caller, body: s }) => {
      const from = caller!.principal.id;
      // Every child sends its totals every metering interval: the store writes them synchronously (group commit).
      const summary = JSON.stringify({ ...s, node: from });
      await env.db.jobs.putChildMetering({ node: from, at: s.at, summary });
      return [200, { accepted: true }];
    },
  }),
];
