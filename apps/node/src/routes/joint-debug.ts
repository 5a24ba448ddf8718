import type { Router } from 'express';
import {
  CAPABILITIES,
  capabilitiesOf,
  hasCapability,
  commonCapabilities,
  EchoAnswer,
  JointDebugAnswer,
  JointDebugList,
  JointDebugRequest,
  JointDebugRerun,
  JointDebugRerunAnswer,
  JointDebugResult,
  ROUTES,
  validate,
} from '@cpnet/protocol';
import type { NodeContext } from '../context.ts';
import { fail } from '../http/http-error.ts';
import type { RouteDeps } from '../http/write-route.ts';
import { defineRoute, mountTable, type RouteTable } from '../http/route-table.ts';
import { runChecks } from '../onboarding/checks.ts';
import { rerunJointDebug } from '../onboarding/applicant.ts';
import { judgeJointDebugResult } from '../onboarding/reverse-result.ts';
import { learnPeer } from '../links/tls-discovery.ts';
import { setChildLifecycle } from '../onboarding/grant.ts';
import { recordJointDebugRun } from '../acceptance/service.ts';

/** What `jointDebugRoutes` uses of the node. */
type JointDebugRoutesDeps = RouteDeps &
  Pick<NodeContext, 'cache' | 'clientFor' | 'endpoint' | 'outbox' | 'serials' | 'settings' | 'tls'>;

const route = defineRoute<JointDebugRoutesDeps>();

/**
 * Joint debugging (联调): the results held here, the signed echo the forged and replayed checks use, a parent's
 * request to run the checks again, and a child asking this node to run them on it. In the OpenAPI document these
 * rows stay in the onboarding tag, after the applications (`routeTables` lists this table right after onboarding's).
 */
export const JOINT_DEBUG_ROUTES: RouteTable<JointDebugRoutesDeps> = [
  route({
    operationId: 'listJointDebug',
    method: 'get',
    path: ROUTES.jointDebug,
    tag: 'onboarding',
    summary: 'Joint-debugging results held here',
    auth: 'none',
    responses: {
      200: { description: 'Every result received from the nodes this one was checked by', schema: JointDebugList },
    },
    handle: async ({ env }) => {
      const rows = await env.db.jointDebug.all();
      return [200, { items: rows.map((r) => JSON.parse(r.result) as unknown) }];
    },
  }),
  route({
    operationId: 'jointDebugEcho',
    method: 'post',
    path: `${ROUTES.jointDebug}/echo`,
    tag: 'onboarding',
    summary: 'A signed no-op used by the forged and replayed checks of joint debugging',
    auth: 'required',
    responses: { 200: { description: 'The signature verified', schema: EchoAnswer } },
    errors: { 403: 'the caller is not a node' },
    access: { rule: 'any node' },
    audit: 'echo',
    audited: ({ env }) => ({ resource: `node:${env.config.code}` }),
    handle: ({ caller }) => {
      if (caller!.principal.kind !== 'node') fail('FORBIDDEN', 'the echo is for nodes');
      return [200, { ok: true, by: caller!.principal.id }];
    },
  }),
  route({
    operationId: 'requestJointDebug',
    method: 'post',
    path: `${ROUTES.jointDebug}/request`,
    tag: 'onboarding',
    summary: 'A parent asks this node to run the joint-debugging checks on it again and submit a fresh result',
    auth: 'required',
    body: JointDebugRerun,
    responses: {
      202: {
        description: 'The checks run in the background; the result is POSTed to each ancestor',
        schema: JointDebugRerunAnswer,
      },
    },
    errors: { 403: 'the caller is not this node’s parent or an ancestor' },
    access: { rule: 'the parent or an ancestor of this node' },
    audit: 'joint-debug-request',
    audited: ({ caller }) => ({ resource: `node:${caller!.principal.id}` }),
    handle: async ({ env, caller, body: request }) => {
      const p = caller!.principal;
      const peer = p.kind === 'node' ? await env.db.peers.byPrefix(p.id) : null;
      if (!peer || !['parent', 'ancestor'].includes(peer.relation))
        fail('FORBIDDEN', `${p.id} is not the parent or an ancestor of ${env.config.code}`);
      const started = rerunJointDebug(env, request.request ?? null);
      return [202, { accepted: true, by: env.config.code, running: !started }];
    },
  }),
  route({
    operationId: 'jointDebug',
    method: 'post',
    path: ROUTES.jointDebug,
    tag: 'onboarding',
    summary: 'Ask this node to run the joint-debugging checks on the caller',
    auth: 'required',
    body: JointDebugRequest,
    responses: {
      200: { description: 'The checks run and the caller’s lifecycle after them', schema: JointDebugAnswer },
    },
    errors: { 403: 'the caller is not an approved node below this one' },
    access: { rule: 'an approved node below this one, about itself' },
    audit: 'joint-debug',
    audited: ({ caller }) => ({ resource: `node:${caller!.principal.id}` }),
    handle: async ({ env, caller, body: request }) => {
      const p = caller!.principal;
      const peer = await env.db.peers.byPrefix(p.id);
      if (!peer || !['child', 'descendant'].includes(peer.relation) || request.target !== p.id)
        fail('FORBIDDEN', `${p.id} is not an approved node below ${env.config.code}`);
      if (!['approved', 'joint-debugging', 'accepted', 'online'].includes(peer.lifecycle))
        fail('FORBIDDEN', `${peer.prefix} is ${peer.lifecycle}`);
      // The list both sides run and are judged by: 1.1 when the caller advertises it, else 1.0 (a 1.0 node).
      const list = hasCapability(request, 'check-list-1.1') ? '1.1' : '1.0';
      // The caller's own result counts by the checks it lists, not by the `passed` it claims.
      const valid = request.result === undefined ? null : validate(JointDebugResult, request.result);
      const theirs = valid?.ok
        ? judgeJointDebugResult(valid.value, { by: peer.prefix, target: env.config.code, list })
        : null;
      if (valid?.ok && theirs) {
        await env.db.jointDebug.add({
          target: env.config.code,
          by: peer.prefix,
          listVersion: valid.value.listVersion,
          passed: theirs.passed,
          result: JSON.stringify(valid.value),
          at: valid.value.at,
        });
      }
      await learnPeer(env, peer);
      const result = await runChecks(env, { prefix: peer.prefix, endpoint: peer.endpoint }, { list });
      let lifecycle = peer.lifecycle;
      let acceptance: string | null = null;
      if (peer.relation === 'child') {
        // The run goes into the child's acceptance case: in its window (按期) and passing both ways it moves the case
        // to 待验收, or straight to accepted when this authority accepts automatically (rehearsals, simulations).
        const passed = result.passed && theirs?.passed === true;
        const c = await recordJointDebugRun(env, { node: peer.prefix, passed });
        acceptance = c.status;
        if (passed && c.status === 'accepted') {
          await setChildLifecycle(env, { prefix: peer.prefix, lifecycle: 'accepted' });
          await setChildLifecycle(env, { prefix: peer.prefix, lifecycle: 'online' });
          lifecycle = 'online';
        } else {
          await setChildLifecycle(env, { prefix: peer.prefix, lifecycle: 'joint-debugging' });
          lifecycle = 'joint-debugging';
        }
      }
      // The handshake's capabilities: the caller's, kept for this node's later requests, and ours in the answer.
      const common = commonCapabilities(CAPABILITIES, capabilitiesOf(request));
      await env.settings.setJson(`peer.capabilities.${peer.prefix}`, common);
      return [
        200,
        { result, lifecycle, ext: { capabilities: [...CAPABILITIES], common, ...(acceptance ? { acceptance } : {}) } },
      ];
    },
  }),
];

/** Mounts the joint-debugging routes. */
export function jointDebugRoutes(ctx: JointDebugRoutesDeps): Router {
  return mountTable(ctx, JOINT_DEBUG_ROUTES);
}
