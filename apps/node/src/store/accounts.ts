import type { SqliteConnection } from './connection.ts';

/** A person's account at this node. */
export interface Account {
  readonly id: string;
  readonly name: string;
  /** a PersonRole (reviewer, operator, tenant, viewer, acceptance-officer, supervisor, expert …) */
  readonly role: string;
  /** active | suspended | revoked */
  readonly status: string;
  readonly passwordHash: string;
  /** The reviewer's agency as the guide names it, if any. */
  readonly agency: string | null;
  readonly createdAt: Date;
}

/** People's accounts. */
export interface AccountStore {
  /** Every account, by id. */
  all(): Promise<Account[]>;
  byId(id: string): Promise<Account | null>;
  create(account: Pick<Account, 'id' | 'name' | 'role' | 'passwordHash'> & { agency?: string | null }): Promise<void>;
  /** Sets an account's status (a disabled account is `suspended`). */
  setStatus(id: string, status: 'active' | 'suspended' | 'revoked'): Promise<void>;
  /** The ids of active reviewers. */
  reviewerIds(): Promise<string[]>;
}

/** The SQLite account store. */
export function sqliteAccountStore({ prisma }: SqliteConnection): AccountStore {
  return {
    all: () => prisma.account.findMany({ orderBy: { id: 'asc' } }),
    byId: (id) => prisma.account.findUnique({ where: { id } }),
    async create(account) {
      await prisma.account.create({ data: account });
    },
    async setStatus(id, status) {
      await prisma.account.update({ where: { id }, data: { status } });
    },
    reviewerIds: async () =>
      (await prisma.account.findMany({ where: { role: 'reviewer', status: 'active' }, select: { id: true } })).map(
        (a) => a.id,
      ),
  };
}
