import { z } from 'zod';
import {
  IDENTIFIER_PATTERN,
  INDUSTRY_PATTERN,
  parseCreditCode,
  parseIdentifier,
  parsePrefix,
  PREFIX_PATTERN,
  PROVINCES,
} from '@cpnet/identifier';

/** How deep a free-form JSON value (record data, `ext`, event data, evidence) may nest: objects and arrays. */
export const MAX_VALUE_DEPTH = 32;
/** How large a free-form JSON value may be, as UTF-8 JSON text. */
export const MAX_VALUE_BYTES = 65_536;

/** How deeply `value` nests objects and arrays, counted without recursion and stopping past `limit`. */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const work: Array<[unknown, number]> = [[value, 0]];
  while (work.length > 0) {
    const [v, d] = work.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, d + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) work.push([child, d + 1]);
  }
  return deepest;
}

const utf8 = new TextEncoder();

/** Why a free-form JSON value is too deep or too large to store, or null. */
export function valueBoundsProblem(value: unknown): string | null {
  const depth = depthOf(value, MAX_VALUE_DEPTH);
  if (depth > MAX_VALUE_DEPTH)
    return `nested more than ${MAX_VALUE_DEPTH} levels deep; at most ${MAX_VALUE_DEPTH} levels of objects and arrays are allowed`;
  const text = JSON.stringify(value) ?? '';
  // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair 4 for two): most values fit without encoding.
  if (text.length * 3 <= MAX_VALUE_BYTES) return null;
  const bytes = utf8.encode(text).length;
  if (bytes > MAX_VALUE_BYTES) return `${bytes} bytes of JSON; at most ${MAX_VALUE_BYTES} bytes are allowed`;
  return null;
}

/** A schema's values, refused when deeper than `MAX_VALUE_DEPTH` or larger than `MAX_VALUE_BYTES`. */
export function bounded<T extends z.ZodType>(schema: T) {
  return schema.superRefine((value, ctx) => {
    const problem = valueBoundsProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

const BOUNDS_TEXT = `at most ${MAX_VALUE_DEPTH} levels deep and ${MAX_VALUE_BYTES} bytes of JSON`;

/** Any JSON value within the bounds every stored free-form value keeps. */
export const JsonData = bounded(z.unknown()).describe(`any JSON value, ${BOUNDS_TEXT}`);

/** `ext`: the one place any message may carry extra fields; receivers ignore it. */
export const Ext = bounded(z.record(z.string(), z.unknown())).describe(
  `Extension fields, ignored by receivers; ${BOUNDS_TEXT}`,
);
export type Ext = z.output<typeof Ext>;

/** A strict message: unknown fields are rejected, except inside `ext`. */
export function message<T extends z.ZodRawShape>(shape: T) {
  return z.strictObject({ ...shape, ext: Ext.optional() });
}

/**
 * A canonicalised identifier (the input rules applied; a malformed one fails naming its segment). Its JSON Schema
 * carries `IDENTIFIER_PATTERN`, the canonical form: what a node answers with and what a sender should write. The
 * parser is more lenient on input (lower case, blanks around), and only it checks the check pair.
 */
export const Identifier = z
  .string()
  .transform((value, ctx) => {
    const r = parseIdentifier(value);
    if (r.ok) return r.value.id;
    ctx.addIssue({ code: 'custom', message: `${r.error.segment}: ${r.error.message}; expected ${r.error.expected}` });
    return z.NEVER;
  })
  .meta({ description: '算力标识, e.g. CPN.51.C151/CL-01JQ4ZK8M3XX1', pattern: IDENTIFIER_PATTERN });
export type Identifier = z.output<typeof Identifier>;

/** A canonicalised prefix: CPN, CPN.<region> or CPN.<region>.<industry>; its JSON Schema carries `PREFIX_PATTERN`. */
export const Prefix = z
  .string()
  .transform((value, ctx) => {
    const r = parsePrefix(value);
    if (r.ok) return r.value.prefix;
    ctx.addIssue({ code: 'custom', message: `${r.error.segment}: ${r.error.message}; expected ${r.error.expected}` });
    return z.NEVER;
  })
  .meta({ description: 'A node code / naming-authority prefix, e.g. CPN.51.C151', pattern: PREFIX_PATTERN });
export type Prefix = z.output<typeof Prefix>;

/** A valid 统一社会信用代码 (GB 32100). */
export const CreditCode = z
  .string()
  .transform((value, ctx) => {
    const r = parseCreditCode(value);
    if (r.ok) return r.value.code;
    ctx.addIssue({
      code: 'custom',
      message: `${r.error.message}; expected ${r.error.expected}`,
      params: { errorCode: 'INVALID_CREDIT_CODE' },
    });
    return z.NEVER;
  })
  .describe('统一社会信用代码, 18 characters');
export type CreditCode = z.output<typeof CreditCode>;

/** A GB/T 2260 province-level code. */
export const ProvinceCode = z
  .enum(PROVINCES.map((p) => p.code) as [string, ...string[]])
  .describe('GB/T 2260 province-level code');
export type ProvinceCode = z.output<typeof ProvinceCode>;

/** A GB/T 4754-2017 中类 code such as C151: the letter is the section of the division, the last digit 1–9. */
export const IndustryCode = z
  .string()
  .regex(new RegExp(INDUSTRY_PATTERN), 'a GB/T 4754-2017 中类 such as C151, its letter the section of its division')
  .describe('GB/T 4754-2017 中类');
export type IndustryCode = z.output<typeof IndustryCode>;

/** RFC 3339 UTC time with milliseconds. */
export const Time = z.iso.datetime({ offset: false, precision: 3 }).describe('RFC 3339 UTC with milliseconds');
export type Time = z.output<typeof Time>;

/**
 * A time as people write it: RFC 3339 with any offset (`2026-03-25T23:59:59+08:00`) or `Z`, seconds' fraction
 * optional; read into the wire form, UTC with milliseconds.
 */
export const TimeInput = z.iso
  .datetime({ offset: true })
  .transform((t) => new Date(Date.parse(t)).toISOString())
  .describe('RFC 3339 with an offset or Z; stored as UTC with milliseconds');
export type TimeInput = z.output<typeof TimeInput>;

/** An http(s) URL. */
export const Url = z.url({ protocol: /^https?$/ });
export type Url = z.output<typeof Url>;

/**
 * The largest quantity any message carries: 2^53 − 1, where doubles stop counting exactly. Every number is bounded,
 * so a sum of a message's quantities stays finite (a summary never overflows to Infinity, which JSON sends as null).
 */
export const MAX_QUANTITY = Number.MAX_SAFE_INTEGER;

/** A non-negative finite number, at most `MAX_QUANTITY`. */
export const NonNegative = z.number().finite().nonnegative().max(MAX_QUANTITY);
export type NonNegative = z.output<typeof NonNegative>;

/** A share between 0 and 1. */
export const Share = z.number().min(0).max(1);
export type Share = z.output<typeof Share>;

/** A node's role. */
export const NodeRole = z.enum(['national', 'regional', 'industry']);
export type NodeRole = z.output<typeof NodeRole>;

/** A node's lifecycle status. */
export const NodeLifecycle = z.enum([
  'applied',
  'reviewing',
  'approved',
  'rejected',
  'joint-debugging',
  'accepted',
  'online',
  'suspended',
  'revoked',
]);
export type NodeLifecycle = z.output<typeof NodeLifecycle>;

/** Health, separate from lifecycle. */
export const Health = z.enum(['healthy', 'degraded', 'down']);
export type Health = z.output<typeof Health>;

/** A provider's or cluster's lifecycle. */
export const MemberLifecycle = z.enum(['registered', 'active', 'suspended', 'revoked']);
export type MemberLifecycle = z.output<typeof MemberLifecycle>;

/** Items per page of every paged list. */
export const PageLimit = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .default(100)
  .describe('items per page, 1–1000 (default 100); a page may hold fewer');

/** A page of results. */
export const PageQuery = z.strictObject({
  cursor: z
    .string()
    .max(200)
    .optional()
    .describe('the `next` of the previous page (same filters); absent for the first'),
  limit: PageLimit,
});
export type PageQuery = z.output<typeof PageQuery>;

/** A W3C Trace Context `traceparent` (version 00): trace id, parent span id, flags. */
export const TraceParent = z
  .string()
  .regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>');
export type TraceParent = z.output<typeof TraceParent>;
