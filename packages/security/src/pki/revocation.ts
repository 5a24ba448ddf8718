/** One revocation: a certificate serial, a whole identity (prefix or identifier), or a delegation serial. */
export interface Revocation {
  /** Certificate or delegation serial (hex for certificates, lower-cased). */
  readonly serial?: string;
  /** An identity (`CPN.51`, `CPN.51.C151/PV-…`): every credential of it is refused. */
  readonly subject?: string;
  readonly reason: string;
  /** Unix ms. */
  readonly revokedAt: number;
}

/** The revocations a node knows, checked by chain, delegation and message verification. */
export interface RevocationList {
  revoke(entry: Revocation): void;
  /** The reason a serial or subject is revoked, or null. */
  reasonFor(query: { serial?: string; subject?: string }): string | null;
  entries(): readonly Revocation[];
}

/** An in-memory revocation list (the node persists `entries()` and replays them at start). */
export function createRevocationList(initial: readonly Revocation[] = []): RevocationList {
  const bySerial = new Map<string, Revocation>();
  const bySubject = new Map<string, Revocation>();
  const all: Revocation[] = [];
  const list: RevocationList = {
    revoke(entry) {
      if (!entry.serial && !entry.subject) throw new TypeError('a revocation names a serial or a subject');
      if (!entry.reason) throw new TypeError('a revocation states its reason');
      all.push(entry);
      if (entry.serial) bySerial.set(entry.serial.toLowerCase(), entry);
      if (entry.subject) bySubject.set(entry.subject, entry);
    },
    reasonFor(q) {
      const hit =
        (q.serial ? bySerial.get(q.serial.toLowerCase()) : undefined) ??
        (q.subject ? bySubject.get(q.subject) : undefined);
      return hit ? `revoked at ${new Date(hit.revokedAt).toISOString()}: ${hit.reason}` : null;
    },
    entries: () => all.slice(),
  };
  for (const e of initial) list.revoke(e);
  return list;
}
