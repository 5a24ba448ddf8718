import { parseIdentifier, parsePrefix, prefixLevel, type PrefixLevel } from '@cpnet/identifier';

/** What a certificate is for, from its name: a node CA at a level, or a provider/gateway leaf. */
export type CertificateKind = PrefixLevel | 'leaf';

/** The path length each CA level carries: national 2, regional 1, industry 0. */
export const PATH_LENGTH: Readonly<Record<PrefixLevel, number>> = { national: 2, regional: 1, industry: 0 };

/** Record kinds that may hold a leaf (end-entity) certificate: providers and their gateways (services). */
export const LEAF_KINDS: readonly string[] = ['PV', 'SV'];

/** A classified certificate name: its kind and the prefix it lives in. */
export interface CertificateName {
  readonly name: string;
  readonly kind: CertificateKind;
  /** The node prefix itself, or the prefix of a leaf identifier. */
  readonly prefix: string;
}

/** Classifies a canonical prefix or identifier as a certificate name; null when it is neither or not canonical. */
export function classifyName(name: string): CertificateName | null {
  if (!name.includes('/')) {
    const p = parsePrefix(name);
    return p.ok && p.value.prefix === name ? { name, kind: prefixLevel(name), prefix: name } : null;
  }
  const id = parseIdentifier(name);
  if (!id.ok || id.value.id !== name || !LEAF_KINDS.includes(id.value.kind)) return null;
  return { name, kind: 'leaf', prefix: id.value.prefix };
}
