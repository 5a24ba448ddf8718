import type { SqliteConnection } from './connection.ts';

/** A node this node knows: its parent, children, and ancestors or descendants met during onboarding. */
export interface Peer {
  readonly prefix: string;
  /** parent | child | ancestor | descendant */
  readonly relation: string;
  readonly role: string;
  readonly endpoint: string;
  /** PEM (SPKI) public key. */
  readonly publicKey: string;
  readonly certificate: string;
  readonly lifecycle: string;
  readonly health: string;
  /** The ND record describing a child in this node's namespace. */
  readonly ndRecord: string | null;
  readonly updatedAt: Date;
}

/** What is written when a peer is learnt or its grant changes. */
export type PeerData = Pick<Peer, 'relation' | 'role' | 'endpoint' | 'publicKey' | 'lifecycle'> &
  Partial<Pick<Peer, 'certificate' | 'health'>>;

/** The parts of a peer checked on every signed request (read synchronously). */
export type PeerLink = Pick<Peer, 'relation' | 'lifecycle' | 'publicKey' | 'endpoint'>;

/** The peers of a node. */
export interface PeerStore {
  /** The hot path (signature checks, resolution): relation, lifecycle, key and endpoint of a peer, if known. */
  link(prefix: string): Promise<PeerLink | undefined>;
  byPrefix(prefix: string): Promise<Peer | null>;
  /** Peers, optionally of some relations and not in one lifecycle; ordered by relation when asked, else as stored. */
  list(q?: { relations?: readonly string[]; notLifecycle?: string; byRelation?: boolean }): Promise<Peer[]>;
  /** Creates or replaces what is known of a peer. */
  put(prefix: string, data: PeerData): Promise<void>;
  setLifecycle(prefix: string, lifecycle: string): Promise<void>;
  setNdRecord(prefix: string, ndRecord: string): Promise<void>;
}

/** The SQLite peer store. */
export function sqlitePeerStore({ prisma, sql }: SqliteConnection): PeerStore {
  return {
    link: async (prefix) =>
      sql.stmt('SELECT "relation", "lifecycle", "publicKey", "endpoint" FROM "Peer" WHERE "prefix" = ?').get(prefix) as
        PeerLink | undefined,
    byPrefix: (prefix) => prisma.peer.findUnique({ where: { prefix } }),
    list: (q = {}) =>
      prisma.peer.findMany({
        where: {
          ...(q.relations ? { relation: { in: [...q.relations] } } : {}),
          ...(q.notLifecycle ? { lifecycle: { not: q.notLifecycle } } : {}),
        },
        ...(q.byRelation ? { orderBy: { relation: 'asc' as const } } : {}),
      }),
    async put(prefix, data) {
      await prisma.peer.upsert({ where: { prefix }, create: { prefix, ...data }, update: data });
    },
    async setLifecycle(prefix, lifecycle) {
      await prisma.peer.update({ where: { prefix }, data: { lifecycle } });
    },
    async setNdRecord(prefix, ndRecord) {
      await prisma.peer.update({ where: { prefix }, data: { ndRecord } });
    },
  };
}
