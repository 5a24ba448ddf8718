import type { z } from 'zod';
import { err, ok, type Result } from '@cpnet/kernel';
import { errorBody, type ErrorBody } from './errors.ts';

/** Validates `input` against a schema; a failure becomes a 400 body naming the first failing field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): Result<z.output<S>, ErrorBody> {
  const r = schema.safeParse(input);
  if (r.success) return ok(r.data);
  const issue = r.error.issues[0];
  const path = issue ? issue.path.map(String) : [];
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const field = path.join('.');
  const detail = describeIssue(issue);
  return err(errorBody('SCHEMA_VIOLATION', field ? `${field}: ${detail}` : detail, field || undefined));
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid value';
  if (issue.code === 'unrecognized_keys')
    return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; extra data belongs in "ext"`;
  return issue.message;
}
