import { ROUTES } from '@cpnet/protocol';
import type { NodeContext } from '@cpnet/node';
import type { ConformanceCheck } from './run.ts';

// The application step of a run: the target's application at the parent, and why the parent refused it when it did.

/** An application as the parent holds it. */
export type AppRow = { id: string; status: string; reasons: string; body: string };

/** The target's latest application at the parent. */
export async function applicationOf(ctx: NodeContext, code: string): Promise<AppRow | null> {
  return ctx.db.applications.latestOf(code);
}

/** Checks that never ran, with the reason. */
export function notRun(ids: readonly string[], descriptions: Record<string, string>, why: string): ConformanceCheck[] {
  return ids.map((id) => ({
    id,
    description: descriptions[id] ?? id,
    passed: false,
    notRun: true,
    evidence: { expected: 'the check to run', detail: `not run: ${why}` },
  }));
}

/** How long the run waits for a good application once the parent has refused one (wall time). */
export const REFUSED_GRACE_MS = 8000;

/**
 * Why the parent refused the target's applications since the run began: its security alerts on POST /applications
 * (a bad or replayed signature is refused before an application exists, so no application row tells it).
 */
export async function applicationRefusals(ctx: NodeContext, after: number): Promise<string[]> {
  const rows = await ctx.db.events.find({ after, type: 'security.alert', limit: 200 });
  const out: string[] = [];
  for (const r of rows) {
    const d = JSON.parse(r.data) as { kind?: string; reason?: string; path?: string; method?: string };
    if (d.method !== 'POST' || !d.path?.endsWith(ROUTES.applications)) continue;
    out.push(`${d.kind === 'forbidden' ? 403 : 401} ${d.reason ?? d.kind ?? 'refused'}`);
  }
  return out;
}

/** "3 applications by CPN.51 refused: 401 the signature does not verify (×3)". */
export function refusalSummary(code: string, refusals: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const r of refusals) counts.set(r, (counts.get(r) ?? 0) + 1);
  const reasons = [...counts].map(([r, n]) => (n > 1 ? `${r} (×${n})` : r)).join('; ');
  const n = refusals.length;
  return `${n} application${n === 1 ? '' : 's'} by ${code} refused by the parent: ${reasons}`;
}
