import { parsePrefix } from '@cpnet/identifier';

/** The province (GB/T 2260 code) of a node prefix, or null (the national node, or not a prefix). */
export function regionOf(prefix: string): string | null {
  const p = parsePrefix(prefix);
  return p.ok ? (p.value.region ?? null) : null;
}
