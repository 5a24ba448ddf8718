import { parsePrefix as parse } from '@cpnet/identifier';

/** The region and industry of a regional (CPN.xx) or industry (CPN.xx.Xnnn) node code; throws with the reason. */
export function parsePrefix(code: string): { code: string; region: string; industry: string | null } {
  const r = parse(code);
  if (!r.ok) throw new Error(`"${code}" is not a node code: ${r.error.message}`);
  if (r.value.level === 'national' || !r.value.region)
    throw new Error(
      `"${code}" is the national prefix; the target is a regional (CPN.xx) or industry (CPN.xx.Xnnn) node`,
    );
  return { code: r.value.prefix, region: r.value.region, industry: r.value.industry };
}
