import { ROUTES, SCHEDULING_ROUTES, SubtreeSummary } from '@cpnet/protocol';
import { ProviderSetupError, startVirtualProvider } from './virtual-provider.ts';
import {
  asParent,
  Failed,
  shown,
  signedGet,
  TEMPLATE,
  within,
  type Answer,
  type FunctionCheck,
} from './function-env.ts';

/** 资源汇聚 and 算力选择: the virtual provider registers and reports at the target; the parent sees the result. */
export const AGGREGATION_CHECKS: readonly FunctionCheck[] = [
  {
    id: 'aggregation-provider',
    description:
      '资源汇聚: a provider with its own key and a valid credit code MUST be able to register with the target, register ' +
      'its clusters and connect its gateway, and its report MUST be acknowledged',
    needs: [],
    run: async (env, s) => {
      try {
        s.provider = await startVirtualProvider({
          endpoint: env.target.endpoint,
          node: env.target.prefix,
          clock: env.clock,
          serial: String(env.clock.now() % 100_000_000),
          timeoutMs: env.timeoutMs,
        });
      } catch (e) {
        if (e instanceof ProviderSetupError)
          throw new Failed({ ...(e.evidence as Failed['evidence']), detail: e.message });
        throw new Failed({ expected: 'the gateway handshake to be accepted', detail: (e as Error).message });
      }
      const ack = (await s.provider.report()) as { ok: boolean; error?: unknown } | null;
      if (!ack?.ok) throw new Failed({ expected: 'the report acknowledged { ok: true }', detail: JSON.stringify(ack) });
      s.firstReportAt = env.clock.now();
      return { provider: s.provider.id, clusters: s.provider.clusters.map((c) => c.id) };
    },
  },
  {
    id: 'aggregation-reports',
    description: "资源汇聚: the provider's cluster reports MUST reach the target (GET /cpn/v1/clusters shows them)",
    needs: ['aggregation-provider'],
    run: (env, s) =>
      within(env, env.timeoutMs, async () => {
        const p = s.provider!;
        const path = `${ROUTES.clusters}?provider=${encodeURIComponent(p.id)}`;
        const list = await signedGet<{ items: { id: string; reports: number; lastReport: unknown }[] }>(
          env,
          env.target.endpoint,
          path,
        );
        const missing = p.clusters.filter((c) => !list.items.some((i) => i.id === c.id && i.reports > 0));
        if (missing.length > 0)
          throw new Failed({
            request: { method: 'GET', url: `${env.target.endpoint}${path}` },
            response: { status: 200, body: list },
            expected: `every cluster of ${p.id} with at least one report`,
            detail: `no report held for ${missing.map((c) => c.id).join(', ')}`,
          });
        return { clusters: list.items.length };
      }),
  },
  {
    id: 'aggregation-summary',
    description:
      "资源汇聚: the target's subtree summary MUST reach its parent within the documented interval and include what " +
      "the provider reported (its clusters, K1 and K2, in the cluster's province and class)",
    needs: ['aggregation-reports'],
    run: (env, s) =>
      within(env, env.flowWaitMs, async () => {
        const p = s.provider!;
        const rows = await env.parent.db.providers.childSummaries();
        const row = rows.find((r) => r.node === env.target.prefix);
        const parsed = row ? SubtreeSummary.safeParse(JSON.parse(row.summary)) : null;
        const summary = parsed?.success ? parsed.data : null;
        const ours = p.clusters.reduce((a, c) => a + c.body.capacity.cpuCores, 0);
        const province = summary?.byProvince['51'];
        const klass = summary?.byClass['403'];
        // Made after the report, by the target's clock, which may be up to 5 s off ours (the `clock` check).
        const fresh = summary !== null && Date.parse(summary.at) >= s.firstReportAt! - 5000;
        if (
          !summary ||
          !fresh ||
          !province ||
          !klass ||
          province.clusters < p.clusters.length ||
          province.k1.cpuCores < ours ||
          klass.k2.cpuCores < ours / 2
        )
          throw new Failed({
            response: { body: summary ?? row?.summary ?? null },
            expected:
              `a summary from ${env.target.prefix}, made after the provider's report, listing its ${p.clusters.length} ` +
              `clusters in province 51 and class 403 (K1 at least ${ours} cores)`,
            detail: summary
              ? `the latest summary (at ${summary.at}) does not include the provider's clusters`
              : `${env.parent.config.code} holds no summary from ${env.target.prefix} within ${env.flowWaitMs} ms`,
          });
        return { at: summary.at, clusters: province.clusters };
      }),
  },
  {
    id: 'aggregation-market',
    description: "资源汇聚: the parent's market view MUST list the target's clusters under their class and province",
    needs: ['aggregation-reports'],
    run: async (env, s) => {
      const path = `${ROUTES.market}?province=51&resourceClass=403`;
      const view = await signedGet<{ offers: { node: string; clusters: number }[] }>(env, env.parent.endpoint(), path);
      const offer = view.offers.find((o) => o.node === env.target.prefix || o.node.startsWith(`${env.target.prefix}.`));
      if (!offer || offer.clusters < s.provider!.clusters.length)
        throw new Failed({
          request: { method: 'GET', url: `${env.parent.endpoint()}${path}` },
          response: { status: 200, body: view },
          expected: `an offer of ${env.target.prefix} in province 51, class 403, with its clusters`,
          detail: offer ? `the offer lists ${offer.clusters} clusters` : `no offer of ${env.target.prefix}`,
        });
      return { offer };
    },
  },
  {
    id: 'selection-relayed',
    description:
      "算力选择: a selection relayed down by the parent MUST be answered from the target's subtree, ranking the " +
      'provider’s fitting cluster and saying why the other was excluded',
    needs: ['aggregation-reports'],
    run: async (env, s) => {
      const p = s.provider!;
      const body = { template: TEMPLATE, topK: 5, direction: 'down', exclude: [] };
      const r = (await asParent(env, env.target.endpoint).request({
        method: 'POST',
        path: SCHEDULING_ROUTES.selections,
        body,
      })) as Answer;
      const a = r.value as
        | { candidates?: { cluster: string }[]; excluded?: { cluster: string; reason: string }[]; summary?: string }
        | undefined;
      const x86 = p.clusters.find((c) => c.body.arch === 'x86_64');
      const arm = p.clusters.find((c) => c.body.arch === 'aarch64');
      const ranked = a?.candidates?.some((c) => c.cluster === x86!.id);
      const why = a?.excluded?.find((e) => e.cluster === arm!.id);
      if (!r.ok || !ranked || !why?.reason || !a?.summary)
        throw new Failed({
          request: { method: 'POST', url: `${env.target.endpoint}${SCHEDULING_ROUTES.selections}`, body },
          response: shown(r),
          expected: `200 ranking ${x86!.id} (x86_64) and excluding ${arm!.id} (aarch64) with a reason, and a summary`,
          detail: !r.ok
            ? `answered ${r.status}`
            : !ranked
              ? `${x86!.id} is not ranked`
              : `no explanation for ${arm!.id}`,
        });
      return { candidates: a.candidates!.length, excluded: why };
    },
  },
];

/** 数据监测: the target's subtree snapshot. */
export const MONITORING_CHECKS: readonly FunctionCheck[] = [
  {
    id: 'monitor-subtree',
    description:
      "数据监测: the target's /cpn/v1/monitor/subtree snapshot MUST cover its subtree: itself and the provider's clusters",
    needs: ['aggregation-reports'],
    run: async (env, s) => {
      const snap = await signedGet<{ nodes: { code: string }[]; clusters: { id: string }[] }>(
        env,
        env.target.endpoint,
        ROUTES.monitorSubtree,
      );
      const missing = s.provider!.clusters.filter((c) => !snap.clusters.some((x) => x.id === c.id));
      const self = snap.nodes.some((n) => n.code === env.target.prefix);
      if (missing.length > 0 || !self)
        throw new Failed({
          request: { method: 'GET', url: `${env.target.endpoint}${ROUTES.monitorSubtree}` },
          response: { status: 200, body: { nodes: snap.nodes.length, clusters: snap.clusters.map((c) => c.id) } },
          expected: `a snapshot naming ${env.target.prefix} and the clusters ${s.provider!.clusters.map((c) => c.id).join(', ')}`,
          detail: self
            ? `missing clusters: ${missing.map((c) => c.id).join(', ')}`
            : `${env.target.prefix} is not in it`,
        });
      return { nodes: snap.nodes.length, clusters: snap.clusters.length };
    },
  },
];
