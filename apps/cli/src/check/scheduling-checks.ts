import { randomUUID } from 'node:crypto';
import { createClient, type NodeClient } from '@cpnet/client';
import { ROUTES } from '@cpnet/protocol';
import {
  asParent,
  Failed,
  shown,
  signedGet,
  TEMPLATE,
  within,
  type Answer,
  type FunctionCheck,
  type FunctionEnv,
  type Shared,
} from './function-env.ts';

/** 互联调度: a job the parent places into the target's subtree, its updates and its metering. */
export const SCHEDULING_CHECKS: readonly FunctionCheck[] = [
  {
    id: 'placement-dispatched',
    description:
      "互联调度: a job the parent places into the target's subtree MUST be dispatched to the provider's gateway",
    needs: ['aggregation-reports'],
    run: async (env, s) => {
      s.job = await submitAndDispatch(env, s);
      return { job: s.job, cluster: s.provider!.dispatched.find((d) => d.job === s.job)!.cluster };
    },
  },
  {
    id: 'job-updates-in-order',
    description: "互联调度: the job's updates (dispatched, running, finished) MUST flow back to the parent, in order",
    needs: ['placement-dispatched'],
    run: async (env, s) => {
      await s.provider!.update(s.job!, 'running');
      await s.provider!.update(s.job!, 'finished');
      const path = `${ROUTES.jobs}/${encodeURIComponent(s.job!)}`;
      return within(env, env.flowWaitMs, async () => {
        const r = (await s.tenant!.request<{ state: string; history: { state: string }[] }>({
          method: 'GET',
          path,
        })) as Answer;
        const job = r.value as { state: string; history: { state: string }[] } | undefined;
        const states = job?.history.map((h) => h.state) ?? [];
        const at = ['dispatched', 'running', 'finished'].map((x) => states.indexOf(x));
        if (!r.ok || at.some((i) => i < 0) || !(at[0]! < at[1]! && at[1]! < at[2]!))
          throw new Failed({
            request: { method: 'GET', url: `${env.parent.endpoint()}${path}` },
            response: shown(r),
            expected: 'the history at the parent holding dispatched, running and finished, in that order',
            detail: `the parent's history of ${s.job!}: ${states.join(' → ') || '(none)'}`,
          });
        return { states };
      });
    },
  },
  {
    id: 'metering-to-parent',
    description: "互联调度: the target's metering totals (计量统计) MUST reach the parent and count the provider's job",
    needs: ['placement-dispatched'],
    run: (env, s) =>
      within(env, env.flowWaitMs, async () => {
        const report = await signedGet<{ children: { node: string; byProvider: Record<string, { jobs: number }> }[] }>(
          env,
          env.parent.endpoint(),
          ROUTES.metering,
        );
        const mine = report.children.find((c) => c.node === env.target.prefix);
        const jobs = mine?.byProvider[s.provider!.id]?.jobs ?? 0;
        if (jobs < 1)
          throw new Failed({
            request: { method: 'GET', url: `${env.parent.endpoint()}${ROUTES.metering}` },
            response: { status: 200, body: report },
            expected: `metering totals of ${env.target.prefix} counting a job of ${s.provider!.id}`,
            detail: mine
              ? `the totals of ${env.target.prefix} count no job of ${s.provider!.id}`
              : `no totals of ${env.target.prefix}`,
          });
        return { jobs };
      }),
  },
  {
    id: 'cluster-dark-replaced',
    description:
      '互联调度: when a cluster running a job goes dark (its gateway stops reporting it), the target MUST re-place the ' +
      'job on another fitting cluster of its subtree',
    needs: ['placement-dispatched'],
    run: async (env, s) => {
      const job = await submitAndDispatch(env, s);
      const first = s.provider!.dispatched.find((d) => d.job === job)!;
      await s.provider!.update(job, 'running');
      s.provider!.silence(first.cluster);
      return within(env, env.darkWaitMs, () => {
        const again = s.provider!.dispatched.find((d) => d.job === job && d.attempt > first.attempt);
        if (!again || again.cluster === first.cluster)
          return Promise.reject(
            new Failed({
              expected: `a new dispatch of ${job} (attempt > ${first.attempt}) on a cluster other than ${first.cluster}`,
              detail:
                `${first.cluster} silent for ${env.darkWaitMs} ms; dispatches of ${job} seen: ` +
                s
                  .provider!.dispatched.filter((d) => d.job === job)
                  .map((d) => `attempt ${d.attempt} on ${d.cluster}`)
                  .join(', '),
            }),
          );
        s.dark = job;
        return Promise.resolve({ job, from: first.cluster, to: again.cluster, attempt: again.attempt });
      });
    },
  },
  {
    id: 'job-escalated',
    description:
      '互联调度: a job the target can no longer hold in its subtree (its last fitting cluster goes dark too) MUST go ' +
      'back up to the parent (escalated), which then retries it across the hierarchy',
    needs: ['cluster-dark-replaced'],
    run: async (env, s) => {
      const job = s.dark!;
      const now = [...s.provider!.dispatched].reverse().find((d) => d.job === job)!;
      await s.provider!.update(job, 'running');
      s.provider!.silence(now.cluster);
      const path = `${ROUTES.jobs}/${encodeURIComponent(job)}`;
      return within(env, env.darkWaitMs, async () => {
        const r = (await s.tenant!.request({ method: 'GET', path })) as Answer;
        const history = (r.value as { history?: { state: string; node: string; detail?: string }[] } | undefined)
          ?.history;
        // The target gives the job up (escalated, or queued for want of a cluster), then the parent acts on it.
        const h = history ?? [];
        const given = h.findLastIndex((e) => e.node === env.target.prefix && ['escalated', 'queued'].includes(e.state));
        const taken = given < 0 ? -1 : h.findIndex((e, i) => i > given && e.node === env.parent.config.code);
        if (!r.ok || taken < 0)
          throw new Failed({
            request: { method: 'GET', url: `${env.parent.endpoint()}${path}` },
            response: shown(r),
            expected:
              `the job's history at the parent: an \`escalated\` (or \`queued\`) entry by ${env.target.prefix}, ` +
              `then an entry by ${env.parent.config.code} (it retries the job)`,
            detail: `${now.cluster} silent too; the parent's history of ${job}: ${
              history?.map((h) => `${h.state}@${h.node}`).join(' → ') ?? '(none)'
            }`,
          });
        return { given: h[given], taken: h[taken] };
      });
    },
  },
];

/** 安全保障: emergency orders of the parent on the virtual provider. */
export const SECURITY_CHECKS: readonly FunctionCheck[] = [
  {
    id: 'emergency-suspend',
    description:
      '安全保障: an emergency order of the parent suspending a provider (应急处置) MUST be acknowledged and applied: ' +
      'the provider listed as suspended and its gateway told',
    needs: ['aggregation-provider'],
    run: (env, s) => order(env, s, 'suspend'),
  },
  {
    id: 'revoked-refused',
    description:
      "安全保障: once the parent revokes the provider, a request signed with the provider's key MUST be refused (401 or 403)",
    needs: ['aggregation-provider'],
    run: async (env, s) => {
      const p = s.provider!;
      await order(env, s, 'revoke');
      const body = { ...p.clusters[0]!.body, name: '吊销后的集群' };
      const r = (await p.client.request({ method: 'POST', path: ROUTES.clusters, body })) as Answer;
      if (r.status !== 401 && r.status !== 403)
        throw new Failed({
          request: { method: 'POST', url: `${env.target.endpoint}${ROUTES.clusters}`, body },
          response: shown(r),
          expected: `401 or 403: ${p.id} is revoked`,
          detail: `answered ${r.status}`,
        });
      return { status: r.status };
    },
  },
];

async function order(env: FunctionEnv, s: Shared, action: 'suspend' | 'revoke'): Promise<unknown> {
  const p = s.provider!;
  const lifecycle = action === 'suspend' ? 'suspended' : 'revoked';
  const body = { target: p.id, action, reason: `cpnet check: 应急处置演练 (${action})` };
  const r = (await asParent(env, env.target.endpoint).request({
    method: 'POST',
    path: ROUTES.emergency,
    body,
  })) as Answer;
  const request = { method: 'POST', url: `${env.target.endpoint}${ROUTES.emergency}`, body };
  if (!r.ok || (r.value as { lifecycle?: string }).lifecycle !== lifecycle)
    throw new Failed({
      request,
      response: shown(r),
      expected: `200 with lifecycle ${lifecycle}`,
      detail: `answered ${r.status}`,
    });
  return within(env, env.timeoutMs, async () => {
    const list = await signedGet<{ items: { id: string; lifecycle: string }[] }>(
      env,
      env.target.endpoint,
      ROUTES.providers,
    );
    const held = list.items.find((i) => i.id === p.id)?.lifecycle;
    const told = p.controls.some((c) => c.target === p.id && c.action === action);
    const gatewayToo = action === 'suspend' ? ' and its gateway sent a control order' : '';
    if (held !== lifecycle || (action === 'suspend' && !told))
      throw new Failed({
        request,
        response: shown(r),
        expected: `${p.id} listed as ${lifecycle} at GET ${ROUTES.providers}${gatewayToo}`,
        detail: `acknowledged, but ${p.id} is listed as ${held ?? 'absent'}${told ? '' : ' and its gateway was told nothing'}`,
      });
    return { lifecycle: held };
  });
}

/** Submits the checks' job at the parent as its tenant and waits for its dispatch on the virtual gateway. */
async function submitAndDispatch(env: FunctionEnv, s: Shared): Promise<string> {
  s.tenant ??= await tenantAt(env);
  const body = { template: TEMPLATE };
  const r = (await s.tenant.request<{ id: string }>({ method: 'POST', path: ROUTES.jobs, body })) as Answer;
  if (!r.ok)
    throw new Failed({
      request: { method: 'POST', url: `${env.parent.endpoint()}${ROUTES.jobs}`, body },
      response: shown(r),
      expected: `the parent ${env.parent.config.code} to accept the job`,
      detail: `answered ${r.status}`,
    });
  const job = (r.value as { id: string }).id;
  await within(env, env.flowWaitMs, () =>
    s.provider!.dispatched.some((x) => x.job === job)
      ? Promise.resolve()
      : Promise.reject(
          new Failed({
            expected: `a dispatch of ${job} on the gateway of ${s.provider!.id}`,
            detail: `no dispatch of ${job} within ${env.flowWaitMs} ms`,
          }),
        ),
  );
  return job;
}

/** A tenant account at the parent (created by the parent itself), signed in with a token. */
async function tenantAt(env: FunctionEnv): Promise<NodeClient> {
  const base = env.parent.endpoint();
  const account = `check-${randomUUID().slice(0, 8)}`;
  const password = randomUUID();
  const c = (await asParent(env, base).createAccount({
    id: account,
    name: account,
    role: 'tenant',
    password,
  })) as Answer;
  if (!c.ok)
    throw new Failed({ response: shown(c), expected: 'a tenant account at the parent', detail: 'not created' });
  const t = await createClient({ baseUrl: base }).token({ account, password });
  if (!t.ok) throw new Failed({ response: shown(t as Answer), expected: 'a token for the tenant', detail: 'refused' });
  return createClient({ baseUrl: base, token: t.value.token, timeoutMs: env.timeoutMs });
}
