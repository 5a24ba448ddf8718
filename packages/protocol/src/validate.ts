import type { z } from 'zod';
import { err, ok, type Result } from '@cpnet/kernel';
import { ERROR_CODES, errorBody, type ErrorBody, type ErrorCode } from './errors.ts';

/** Validates `input` against a schema; a failure becomes a 400 body naming the first failing field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): Result<z.output<S>, ErrorBody> {
  const r = schema.safeParse(input);
  if (r.success) return ok(r.data);
  const issue = r.error.issues[0];
  const path = issue ? issue.path.map(String) : [];
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const field = path.join('.');
  const detail = describeIssue(issue);
  return err(errorBody(codeOf(issue), field ? `${field}: ${detail}` : detail, field || undefined));
}

/** A schema may name a more precise 400 code for its own check (`params.errorCode`), e.g. INVALID_CREDIT_CODE. */
function codeOf(issue: z.core.$ZodIssue | undefined): ErrorCode {
  const named = issue?.code === 'custom' ? (issue.params as { errorCode?: unknown } | undefined)?.errorCode : undefined;
  return typeof named === 'string' && named in ERROR_CODES && ERROR_CODES[named as ErrorCode].status === 400
    ? (named as ErrorCode)
    : 'SCHEMA_VIOLATION';
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid value';
  if (issue.code === 'unrecognized_keys')
    return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; extra data belongs in "ext"`;
  return issue.message;
}
