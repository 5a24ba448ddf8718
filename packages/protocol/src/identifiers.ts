import { z } from 'zod';
import { KIND_CODES } from '@cpnet/identifier';
import { Identifier, JsonData, message, Prefix, Time } from './primitives.ts';

/** A record kind code. */
export const Kind = z.enum(KIND_CODES as [string, ...string[]]);
export type Kind = z.output<typeof Kind>;

/** A Handle-style typed value. */
export const RecordValue = message({
  index: z.number().int().min(1).max(1_000_000),
  type: z.string().min(1).max(100),
  data: JsonData,
  ttl: z
    .number()
    .int()
    .min(0)
    .max(86_400 * 30)
    .default(300),
  permissions: message({ publicRead: z.boolean(), adminRead: z.boolean(), adminWrite: z.boolean() }).default({
    publicRead: true,
    adminRead: true,
    adminWrite: true,
  }),
}).refine((v) => v.data !== undefined, { message: 'data is required', path: ['data'] });
export type RecordValue = z.output<typeof RecordValue>;

/** An identifier record. */
export const IdentifierRecord = message({
  id: Identifier,
  kind: Kind,
  owner: Prefix,
  version: z.number().int().min(1),
  status: z.enum(['active', 'revoked']),
  values: z.array(RecordValue).max(100),
  createdAt: Time,
  updatedAt: Time,
});
export type IdentifierRecord = z.output<typeof IdentifierRecord>;

/** `POST /cpn/v1/identifiers`: register under the node's prefix; the serial is allocated when absent. */
export const RegisterIdentifier = message({
  kind: Kind,
  serial: z
    .string()
    .regex(/^[0-9A-HJKMNP-TV-Z]{1,16}$/i, "1 to 16 characters of Crockford's base-32")
    .optional(),
  prefix: Prefix.optional().describe('defaults to the node prefix'),
  values: z.array(RecordValue).min(1).max(100),
}).refine((r) => new Set(r.values.map((v) => v.index)).size === r.values.length, {
  message: 'value indexes must be unique',
  path: ['values'],
});
export type RegisterIdentifier = z.output<typeof RegisterIdentifier>;

/** `PUT /cpn/v1/identifiers/<id>`: replace the values; the version must match (optimistic concurrency). */
export const UpdateIdentifier = message({
  version: z.number().int().min(1),
  values: z.array(RecordValue).min(1).max(100),
});
export type UpdateIdentifier = z.output<typeof UpdateIdentifier>;

/** A resolution answer, signed by the answering node. */
export const ResolutionAnswer = message({
  record: IdentifierRecord,
  answeredBy: Prefix,
  authoritative: z.boolean(),
  path: z.array(Prefix).describe('nodes the query passed through'),
  cachedUntil: Time,
  signature: z.string().describe("the answering node's signature over the JCS of the answer without this field"),
});
export type ResolutionAnswer = z.output<typeof ResolutionAnswer>;
