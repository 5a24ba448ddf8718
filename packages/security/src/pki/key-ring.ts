import type { PublicKeyHandle } from '../crypto/profile.ts';
import { samePublicKey } from '../crypto/profiles.ts';

/** A key of an identity with the window in which it is accepted (Unix ms). */
export interface RingKey {
  readonly publicKey: PublicKeyHandle;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The keys each identity may sign with; during a rotation the old and the new key are both accepted. */
export interface KeyRing {
  add(keyid: string, key: RingKey): void;
  /** Ends the old key's window at `at` (the end of the rotation overlap). */
  retire(keyid: string, publicKey: PublicKeyHandle, at: number): void;
  /** The keys of `keyid` accepted at `at`. */
  keysFor(keyid: string, at: number): PublicKeyHandle[];
}

/** An in-memory key ring. */
export function createKeyRing(): KeyRing {
  const keys = new Map<string, RingKey[]>();
  return {
    add(keyid, key) {
      const list = keys.get(keyid) ?? [];
      list.push(key);
      keys.set(keyid, list);
    },
    retire(keyid, publicKey, at) {
      const list = keys.get(keyid) ?? [];
      keys.set(
        keyid,
        list.map((k) => (samePublicKey(k.publicKey, publicKey) ? { ...k, notAfter: Math.min(k.notAfter, at) } : k)),
      );
    },
    keysFor: (keyid, at) =>
      (keys.get(keyid) ?? []).filter((k) => k.notBefore <= at && at < k.notAfter).map((k) => k.publicKey),
  };
}
