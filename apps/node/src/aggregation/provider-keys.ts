import type { PublicKeyHandle } from '@cpnet/security';
import type { ProviderStore } from '../store/providers.ts';
import { importPublicKey } from '../identity.ts';

/** A provider's key and lifecycle as the node checks signatures and handshakes with them. */
export interface ProviderKey {
  readonly id: string;
  readonly publicKey: string;
  lifecycle: string;
}

/** The keys of the providers registered here, in memory (signature checks must not hit the database). */
export interface ProviderKeys {
  get(id: string): ProviderKey | undefined;
  /** The imported key of an active or suspended provider (a revoked one signs nothing), or null. */
  key(id: string): PublicKeyHandle | null;
  put(p: ProviderKey): void;
  setLifecycle(id: string, lifecycle: string): void;
}

/** Loads every provider's key. */
export async function loadProviderKeys(providers: ProviderStore): Promise<ProviderKeys> {
  const byId = new Map<string, ProviderKey>();
  const imported = new Map<string, PublicKeyHandle>();
  for (const p of await providers.all()) byId.set(p.id, { id: p.id, publicKey: p.publicKey, lifecycle: p.lifecycle });
  return {
    get: (id) => byId.get(id),
    key(id) {
      const p = byId.get(id);
      if (!p || p.lifecycle === 'revoked') return null;
      let k = imported.get(id);
      if (!k) {
        try {
          k = importPublicKey(p.publicKey);
        } catch {
          return null;
        }
        imported.set(id, k);
      }
      return k;
    },
    put(p) {
      byId.set(p.id, { ...p });
      imported.delete(p.id);
    },
    setLifecycle(id, lifecycle) {
      const p = byId.get(id);
      if (p) p.lifecycle = lifecycle;
    },
  };
}
