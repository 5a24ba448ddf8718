import { ACCEPTANCE_ROUTES, ROUTES } from '@cpnet/protocol';

/** A token for one node, or why there is none. */
export type TokenAnswer = { ok: true; token: string } | { ok: false; error: string };

/** Where a reviewing account is asked for a token: the node's code and base URL (absent: the live node itself). */
export interface PipelineNode {
  code: string;
  url: string;
}

/**
 * Tokens of the reviewing accounts, per node: `applications` (role reviewer) reads applications and their chains,
 * `cases` (role expert) the acceptance cases. Called without a node for the live (national) node.
 */
export interface PipelineTokens {
  applications: (node?: PipelineNode) => Promise<TokenAnswer>;
  cases: (node?: PipelineNode) => Promise<TokenAnswer>;
}

type Read = { ok: true; body: unknown } | { ok: false; error: string; status?: number };

async function read(base: string, path: string, token: Promise<TokenAnswer>): Promise<Read> {
  try {
    const t = await token;
    if (!t.ok) return { ok: false, error: t.error };
    const answer = await fetch(new URL(path, base), {
      headers: { 'cpn-protocol': '1.0', authorization: `Bearer ${t.token}` },
    });
    const body: unknown = await answer.json();
    return answer.ok
      ? { ok: true, body }
      : { ok: false, status: answer.status, error: `HTTP ${answer.status}: ${JSON.stringify(body)}` };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

const itemsOf = (body: unknown): Record<string, unknown>[] =>
  body && typeof body === 'object' && Array.isArray((body as { items?: unknown }).items)
    ? ((body as { items: unknown[] }).items.filter((i) => i && typeof i === 'object') as Record<string, unknown>[])
    : [];

/** The applicant's prefix of an application as a node lists it (its `ext.applicant`, else its id). */
function applicantOf(a: Record<string, unknown>): string {
  const ext = a.ext as { applicant?: unknown } | undefined;
  return typeof ext?.applicant === 'string' ? ext.applicant : String(a.id);
}

/** The regional nodes under the live one, from its subtree snapshot (those with a URL). */
async function regionsOf(liveUrl: string, viewerToken: string | undefined): Promise<PipelineNode[]> {
  try {
    const answer = await fetch(new URL(ROUTES.monitorSubtree, liveUrl), {
      headers: { 'cpn-protocol': '1.0', ...(viewerToken ? { authorization: `Bearer ${viewerToken}` } : {}) },
    });
    if (!answer.ok) return [];
    const body = (await answer.json()) as { nodes?: { code?: unknown; role?: unknown; url?: unknown }[] };
    return (body.nodes ?? []).flatMap((n) =>
      n.role === 'regional' && typeof n.code === 'string' && typeof n.url === 'string' && n.url
        ? [{ code: n.code, url: n.url }]
        : [],
    );
  } catch {
    return [];
  }
}

/**
 * Regional nodes that applied to the live node, by the endpoint their application names: a region reviews its
 * industries' applications (初审推荐, 联合复审) before it is itself approved and appears in the snapshot with a URL.
 */
function regionsApplying(items: Record<string, unknown>[]): PipelineNode[] {
  return items.flatMap((a) => {
    const app = a.application as { role?: unknown; endpoint?: unknown } | undefined;
    return app?.role === 'regional' && typeof app.endpoint === 'string'
      ? [{ code: applicantOf(a), url: app.endpoint }]
      : [];
  });
}

function mergeRegions(...lists: PipelineNode[][]): PipelineNode[] {
  const byCode = new Map<string, PipelineNode>();
  for (const n of lists.flat()) if (!byCode.has(n.code)) byCode.set(n.code, n);
  return [...byCode.values()];
}

/** One application on the board: as a node lists it, where it is held, and its chain when that node runs a guide. */
interface Held {
  application: Record<string, unknown>;
  heldAt: string[];
  chain?: unknown;
}

/**
 * The 申报与验收 board's data: the live (national) node's applications and cases, and each regional node's (read with
 * accounts valid there), merged by applicant prefix — each marked with the nodes holding it — with the review chain of
 * each application a node running a guide reports (`GET /cpn/v1/applications/{id}/chain`; 409 where there is none).
 */
export async function readPipeline(o: {
  liveUrl: string;
  nationalCode?: string;
  tokens: PipelineTokens;
  viewerToken?: string;
}): Promise<{
  applications: Read;
  cases: Read;
  held: { applicant: string; heldAt: string[]; chain?: unknown }[];
  nodes: { node: string; ok: boolean; error?: string }[];
}> {
  const national = o.nationalCode ?? 'CPN';
  const nationalToken = o.tokens.applications();
  const nationalList = await read(o.liveUrl, ROUTES.applications, nationalToken);
  const regions = mergeRegions(
    await regionsOf(o.liveUrl, o.viewerToken),
    nationalList.ok ? regionsApplying(itemsOf(nationalList.body)) : [],
  );
  const sources: { code: string; url: string; at?: PipelineNode }[] = [
    { code: national, url: o.liveUrl },
    ...regions.map((r) => ({ code: r.code, url: r.url, at: r })),
  ];
  const [cases, ...lists] = await Promise.all([
    read(o.liveUrl, ACCEPTANCE_ROUTES.cases, o.tokens.cases()),
    ...sources.map(async (s) => {
      // One login per node for its list and every chain (a password login costs a hash; logins are rate-limited).
      const token = s.at ? o.tokens.applications(s.at) : nationalToken;
      const list = s.at ? await read(s.url, ROUTES.applications, token) : nationalList;
      if (!list.ok) return { s, list, chains: new Map<string, unknown>() };
      const chains = new Map<string, unknown>();
      await Promise.all(
        itemsOf(list.body).map(async (a) => {
          const c = await read(s.url, `${ROUTES.applications}/${encodeURIComponent(String(a.id))}/chain`, token);
          if (c.ok) chains.set(String(a.id), c.body);
        }),
      );
      return { s, list, chains };
    }),
  ]);
  const byApplicant = new Map<string, Held>();
  for (const { s, list, chains } of lists) {
    if (!list.ok) continue;
    for (const a of itemsOf(list.body)) {
      const key = applicantOf(a);
      const chain = chains.get(String(a.id));
      const seen = byApplicant.get(key);
      if (!seen) {
        byApplicant.set(key, { application: a, heldAt: [s.code], ...(chain ? { chain } : {}) });
        continue;
      }
      seen.heldAt.push(s.code);
      // The node running the guide knows the chain; the national node's status is the later one once forwarded.
      if (chain && !seen.chain) seen.chain = chain;
    }
  }
  const readable = lists.find((l) => l.list.ok) ?? lists[0]!;
  return {
    applications: readable.list.ok
      ? { ok: true, body: { items: [...byApplicant.values()].map((h) => h.application) } }
      : readable.list,
    cases,
    held: [...byApplicant.entries()].map(([applicant, h]) => ({
      applicant,
      heldAt: h.heldAt,
      ...(h.chain ? { chain: h.chain } : {}),
    })),
    nodes: lists.map(({ s, list }) => ({ node: s.code, ok: list.ok, ...(list.ok ? {} : { error: list.error }) })),
  };
}

/** An account and password the board reads with (one for applications, one for acceptance cases). */
export interface PipelineAccount {
  account: string;
  password: string;
}

/**
 * Tokens by password login (`POST /cpn/v1/tokens`) at whichever node is asked — the live node or a regional one — for
 * each read: the accounts must exist at each node read (`cpnet viz --live --pipeline-credentials`).
 */
export function loginTokens(
  liveUrl: string,
  accounts: { applications: PipelineAccount; cases: PipelineAccount },
): PipelineTokens {
  const login = (a: PipelineAccount) => async (node?: PipelineNode) => {
    const at = node?.url ?? liveUrl;
    try {
      const answer = await fetch(new URL(ROUTES.tokens, at), {
        method: 'POST',
        headers: { 'cpn-protocol': '1.0', 'content-type': 'application/json' },
        body: JSON.stringify({ account: a.account, password: a.password }),
      });
      const body = (await answer.json()) as { token?: unknown };
      return answer.ok && typeof body.token === 'string'
        ? { ok: true as const, token: body.token }
        : {
            ok: false as const,
            error: `${a.account} at ${node?.code ?? at}: HTTP ${answer.status}: ${JSON.stringify(body)}`,
          };
    } catch (e) {
      return {
        ok: false as const,
        error: `${a.account} at ${node?.code ?? at}: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
  };
  return { applications: login(accounts.applications), cases: login(accounts.cases) };
}
