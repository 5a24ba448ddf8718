import { createHash } from 'node:crypto';

const hex = (text: string, chars: number) => createHash('sha256').update(text).digest('hex').slice(0, chars);

/** Recent traceparents by job and node: a job raises several events at each node it passes (two hashes each). */
const memo = new Map<string, string>();
const MEMO_MAX = 20_000;

/**
 * The W3C trace id of a job: derived from its identifier, so every node on the job's path (origin, the hops of an
 * escalation, the owner) computes the same one without it being stored, and a restart keeps it.
 */
export function traceIdOf(job: string): string {
  return hex(`cpnet-trace|${job}`, 32);
}

/** The W3C `traceparent` of a job at one node: the job's trace id, this node's span of it, sampled. */
export function traceparentOf(job: string, node: string): string {
  const key = `${job}|${node}`;
  let tp = memo.get(key);
  if (tp === undefined) {
    tp = `00-${traceIdOf(job)}-${hex(`cpnet-span|${job}|${node}`, 16)}-01`;
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(key, tp);
  }
  return tp;
}
