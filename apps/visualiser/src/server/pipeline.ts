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

/** Wall ms a node has to answer one read of the board (a node still starting may accept and never answer). */
const READ_TIMEOUT_MS = 10_000;

/** The abort signal of one node read: a wall-time cap, as the fetch API takes it (a node answers in real time). */
// eslint-disable-next-line no-restricted-properties -- AbortSignal.timeout is the fetch API's wall-clock timeout
const readTimeout = () => AbortSignal.timeout(READ_TIMEOUT_MS);

type Kind = 'applications' | 'cases';

/** Tokens that can be dropped: a node refused one (401: expired or revoked), so the next ask logs in again. */
export type KeptTokens = PipelineTokens & { forget(kind: Kind, node?: PipelineNode): void };

/**
 * Tokens kept per account and node until a node refuses one: a password login costs a hash (seconds on a loaded
 * machine), and a node refuses a second login of an account while one is running. A failed login is not kept.
 */
export function keptTokens(tokens: PipelineTokens): KeptTokens {
  const kept = new Map<string, Promise<TokenAnswer>>();
  const keyOf = (kind: Kind, node?: PipelineNode) => `${kind} ${node?.code ?? ''}`;
  const ask = (kind: Kind) => (node?: PipelineNode) => {
    const key = keyOf(kind, node);
    let t = kept.get(key);
    if (!t) {
      const asked = tokens[kind](node).catch((e: unknown): TokenAnswer => ({
        ok: false,
        error: e instanceof Error ? e.message : String(e),
      }));
      kept.set(key, asked);
      void asked.then((a) => {
        if (!a.ok && kept.get(key) === asked) kept.delete(key);
      });
      t = asked;
    }
    return t;
  };
  return {
    applications: ask('applications'),
    cases: ask('cases'),
    forget: (kind, node) => {
      kept.delete(keyOf(kind, node));
    },
  };
}

type Read = { ok: true; body: unknown } | { ok: false; error: string; status?: number };

async function read(base: string, path: string, token: Promise<TokenAnswer>): Promise<Read> {
  try {
    const t = await token;
    if (!t.ok) return { ok: false, error: t.error };
    const answer = await fetch(new URL(path, base), {
      signal: readTimeout(),
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
      signal: readTimeout(),
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

/** Reads a node's public 公示 list (no token: anyone may read it); a node without a guide answers 409 — no list. */
async function readPublicity(base: string): Promise<Read | { ok: true; none: true }> {
  try {
    const answer = await fetch(new URL(PUBLICITY_ROUTE, base), {
      signal: readTimeout(),
      headers: { 'cpn-protocol': '1.0' },
    });
    const body: unknown = await answer.json();
    if (answer.status === 409) return { ok: true, none: true };
    return answer.ok
      ? { ok: true, body }
      : { ok: false, status: answer.status, error: `HTTP ${answer.status}: ${JSON.stringify(body)}` };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** `GET /cpn/v1/publicity` (the dossier area's public list; not in `ROUTES`). */
const PUBLICITY_ROUTE = '/cpn/v1/publicity';

/** When each application's 公示 opened: the time of its chain's `open-publicity` step. */
function publicityOpened(chains: Map<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, c] of chains) {
    const steps = (c as { steps?: { at?: unknown; step?: { action?: unknown } }[] }).steps ?? [];
    const opened = steps.filter((s) => s.step?.action === 'open-publicity' && typeof s.at === 'string').at(-1);
    if (opened) out[id] = opened.at as string;
  }
  return out;
}

/** A node's 公示 list as the board shows it: the list (or that the node runs no guide), and when each window opened. */
export interface PublicityRead {
  node: string;
  ok: boolean;
  body?: unknown;
  none?: true;
  error?: string;
  opened?: Record<string, string>;
}

/**
 * The 申报与验收 board's data: the live (national) node's applications, acceptance cases and 公示 list, and each
 * regional node's (read with accounts valid there), merged — applications by applicant prefix, cases by node — each
 * marked with the nodes holding it, with the review chain of each application a node running a guide reports
 * (`GET /cpn/v1/applications/{id}/chain`; 409 where there is none).
 */
export async function readPipeline(o: {
  liveUrl: string;
  nationalCode?: string;
  /** Kept tokens (`keptTokens`, as the server holds them) are reused across reads; others are kept for this read. */
  tokens: PipelineTokens | KeptTokens;
  viewerToken?: string;
}): Promise<{
  applications: Read;
  cases: Read;
  held: { applicant: string; heldAt: string[]; chain?: unknown }[];
  nodes: { node: string; ok: boolean; error?: string }[];
  caseHeld: { node: string; heldAt: string[] }[];
  caseNodes: { node: string; ok: boolean; error?: string }[];
  publicity: PublicityRead[];
}> {
  const national = o.nationalCode ?? 'CPN';
  // One login per node and account at most (a password login costs a hash; logins are rate-limited).
  const tokens = 'forget' in o.tokens ? o.tokens : keptTokens(o.tokens);
  /** A read with the account of `kind` at a node; once more with a fresh login when the node refused the token. */
  const readAs = async (kind: Kind, where: { url: string; at?: PipelineNode }, path: string): Promise<Read> => {
    const first = await read(where.url, path, tokens[kind](where.at));
    if (first.ok || first.status !== 401) return first;
    tokens.forget(kind, where.at);
    return read(where.url, path, tokens[kind](where.at));
  };
  const nationalList = await readAs('applications', { url: o.liveUrl }, ROUTES.applications);
  const regions = mergeRegions(
    await regionsOf(o.liveUrl, o.viewerToken),
    nationalList.ok ? regionsApplying(itemsOf(nationalList.body)) : [],
  );
  const sources: { code: string; url: string; at?: PipelineNode }[] = [
    { code: national, url: o.liveUrl },
    ...regions.map((r) => ({ code: r.code, url: r.url, at: r })),
  ];
  const lists = await Promise.all(
    sources.map(async (s) => {
      // The list and every chain with the reviewing account, the cases with the account that may read them there,
      // the 公示 list without one.
      const [list, cases, publicity] = await Promise.all([
        s.at ? readAs('applications', s, ROUTES.applications) : Promise.resolve(nationalList),
        readAs('cases', s, ACCEPTANCE_ROUTES.cases),
        readPublicity(s.url),
      ]);
      const chains = new Map<string, unknown>();
      if (list.ok)
        await Promise.all(
          itemsOf(list.body).map(async (a) => {
            const path = `${ROUTES.applications}/${encodeURIComponent(String(a.id))}/chain`;
            const c = await readAs('applications', s, path);
            if (c.ok) chains.set(String(a.id), c.body);
          }),
        );
      return { s, list, chains, cases, publicity };
    }),
  );
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
  // An acceptance case is held by the authority that approved the node: the national node for a region, the region
  // for its industry nodes. Merged by node; a node's case held twice (not expected) keeps the first and both holders.
  const byNode = new Map<string, { item: Record<string, unknown>; heldAt: string[] }>();
  for (const { s, cases } of lists) {
    if (!cases.ok) continue;
    for (const c of itemsOf(cases.body)) {
      const key = String(c.node);
      const seen = byNode.get(key);
      if (seen) seen.heldAt.push(s.code);
      else byNode.set(key, { item: c, heldAt: [s.code] });
    }
  }
  const readable = lists.find((l) => l.list.ok) ?? lists[0]!;
  const casesReadable = lists.find((l) => l.cases.ok) ?? lists[0]!;
  return {
    applications: readable.list.ok
      ? { ok: true, body: { items: [...byApplicant.values()].map((h) => h.application) } }
      : readable.list,
    cases: casesReadable.cases.ok
      ? { ok: true, body: { items: [...byNode.values()].map((c) => c.item) } }
      : casesReadable.cases,
    held: [...byApplicant.entries()].map(([applicant, h]) => ({
      applicant,
      heldAt: h.heldAt,
      ...(h.chain ? { chain: h.chain } : {}),
    })),
    nodes: lists.map(({ s, list }) => ({ node: s.code, ok: list.ok, ...(list.ok ? {} : { error: list.error }) })),
    caseHeld: [...byNode.entries()].map(([node, c]) => ({ node, heldAt: c.heldAt })),
    caseNodes: lists.map(({ s, cases }) => ({
      node: s.code,
      ok: cases.ok,
      ...(cases.ok ? {} : { error: cases.error }),
    })),
    publicity: lists.map(({ s, publicity, chains }) =>
      'none' in publicity
        ? { node: s.code, ok: true, none: true as const }
        : publicity.ok
          ? { node: s.code, ok: true, body: publicity.body, opened: publicityOpened(chains) }
          : { node: s.code, ok: false, error: publicity.error },
    ),
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
        signal: readTimeout(),
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
