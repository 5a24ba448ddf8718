import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { invalidInput } from '../exit.ts';

const Account = z.strictObject({ account: z.string().min(1).max(63), password: z.string().min(1).max(200) });

/**
 * `--pipeline-credentials <file>`: the reviewing accounts the 申报与验收 board reads with, as JSON —
 * `{ "applications": { "account", "password" }, "cases": { "account", "password" } }` (a reviewer for the applications
 * and their chains, an expert for the acceptance cases; the same accounts must exist at each regional node read).
 */
export const PipelineCredentials = z.strictObject({ applications: Account, cases: Account });
export type PipelineCredentials = z.output<typeof PipelineCredentials>;

/** Reads and validates the credentials file; a bad file is an invalid input (exit 2) naming the file and field. */
export function readPipelineCredentials(file: string): PipelineCredentials {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw invalidInput(`--pipeline-credentials: cannot read ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalidInput(
      `--pipeline-credentials: ${file} is not JSON; expected {"applications":{"account","password"},"cases":{"account","password"}}`,
    );
  }
  const parsed = PipelineCredentials.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalidInput(
      `--pipeline-credentials: ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}; expected ` +
        `{"applications":{"account","password"},"cases":{"account","password"}}`,
    );
  }
  return parsed.data;
}
