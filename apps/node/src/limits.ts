import { z } from 'zod';

const count = (max: number) => z.number().int().min(1).max(max);
const ms = z
  .number()
  .int()
  .min(1000)
  .max(7 * 24 * 3_600_000);

/**
 * Throttles of what anyone may try without being known (logins, applications). Counted per principal where one is
 * known (the account, the applicant's key) and per address; only failures and refusals count toward the address, so
 * many legitimate actors behind one address (the simulator's, all on 127.0.0.1) are not held back.
 */
export const LimitsConfig = z.strictObject({
  login: z
    .strictObject({
      windowMs: ms.default(15 * 60_000).describe('the window failures are counted in'),
      failuresPerAccount: count(1_000_000).default(10).describe('wrong passwords for one account before 429'),
      failuresPerAddress: count(1_000_000).default(100).describe('failed logins from one address before 429'),
      hashConcurrency: count(64).default(2).describe('password hashes computed at once'),
      hashQueue: count(100_000).default(16).describe('logins waiting for a hash before 429'),
    })
    .prefault({}),
  applications: z
    .strictObject({
      windowMs: ms.default(60 * 60_000),
      perKey: count(1_000_000).default(5).describe("applications stored or refused per applicant's key per window"),
      perAddress: count(1_000_000).default(100).describe('applications stored per address per window'),
      refusalsPerAddress: count(1_000_000).default(20).describe('applications refused per address per window'),
      refusalLog: count(1_000_000).default(1000).describe('refusals from unknown keys kept (oldest dropped first)'),
    })
    .prefault({}),
});
/** Validated throttles. */
export type LimitsConfig = z.output<typeof LimitsConfig>;
