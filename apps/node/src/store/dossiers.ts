import type { SqliteConnection } from './connection.ts';

/** A stored attachment (its bytes only when asked for). */
export interface AttachmentRow {
  readonly applicationId: string;
  readonly sha256: string;
  readonly kind: string;
  readonly file: string;
  readonly mediaType: string;
  readonly bytes: number;
  readonly at: Date;
}

/** A recorded step of the review chain. */
export interface ChainStepRow {
  readonly applicationId: string;
  readonly seq: number;
  readonly by: string;
  readonly role: string | null;
  readonly agency: string | null;
  readonly at: Date;
  /** JSON text of the step */
  readonly step: string;
  readonly signature: string;
}

/** Dossiers, their attachments, the review chain's steps and the disqualified credit codes. */
export interface DossierStore {
  get(applicationId: string): Promise<{ body: string; sha256: string; updatedAt: Date } | null>;
  put(applicationId: string, value: { body: string; sha256: string; updatedAt: Date }): Promise<void>;
  addAttachment(row: AttachmentRow & { content: Uint8Array }): Promise<void>;
  attachments(applicationId: string): Promise<AttachmentRow[]>;
  attachment(applicationId: string, sha256: string): Promise<(AttachmentRow & { content: Uint8Array }) | null>;
  steps(applicationId: string): Promise<ChainStepRow[]>;
  /** Appends steps; a seq already taken fails the whole write (two reviewers racing). */
  addSteps(rows: readonly ChainStepRow[]): Promise<void>;
  disqualify(row: { creditCode: string; applicationId: string; reason: string; at: Date }): Promise<void>;
  disqualified(): Promise<{ creditCode: string; applicationId: string; reason: string; at: Date }[]>;
}

/** The SQLite dossier store. */
export function sqliteDossierStore({ prisma }: SqliteConnection): DossierStore {
  const meta = {
    applicationId: true,
    sha256: true,
    kind: true,
    file: true,
    mediaType: true,
    bytes: true,
    at: true,
  } as const;
  return {
    get: (applicationId) => prisma.dossier.findUnique({ where: { applicationId } }),
    async put(applicationId, value) {
      await prisma.dossier.upsert({ where: { applicationId }, create: { applicationId, ...value }, update: value });
    },
    async addAttachment(row) {
      const { content, ...rest } = row;
      const data = { ...rest, content: Buffer.from(content) as Uint8Array<ArrayBuffer> };
      await prisma.attachment.upsert({
        where: { applicationId_sha256: { applicationId: row.applicationId, sha256: row.sha256 } },
        create: data,
        update: data,
      });
    },
    attachments: (applicationId) =>
      prisma.attachment.findMany({ where: { applicationId }, select: meta, orderBy: { at: 'asc' } }),
    attachment: (applicationId, sha256) =>
      prisma.attachment.findUnique({ where: { applicationId_sha256: { applicationId, sha256 } } }),
    steps: (applicationId) => prisma.chainStep.findMany({ where: { applicationId }, orderBy: { seq: 'asc' } }),
    async addSteps(rows) {
      await prisma.$transaction(rows.map((data) => prisma.chainStep.create({ data })));
    },
    async disqualify(row) {
      await prisma.disqualified.upsert({ where: { creditCode: row.creditCode }, create: row, update: {} });
    },
    disqualified: () => prisma.disqualified.findMany({ orderBy: { at: 'asc' } }),
  };
}
