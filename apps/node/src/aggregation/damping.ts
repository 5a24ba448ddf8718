import type { SubtreeSummary } from '@cpnet/protocol';
import { cards } from './vectors.ts';

/** When a summary is worth sending upward. */
export interface DampingOptions {
  /** Relative change of available cores or cards (0.05 = 5 %) that counts as material. */
  readonly threshold: number;
  /** Send at least this often even when nothing changed materially (ms). */
  readonly maxIntervalMs: number;
}

function totals(s: SubtreeSummary) {
  let cores = 0;
  let cardsAvailable = 0;
  for (const o of s.offers) {
    cores += o.k2.cpuCores;
    cardsAvailable += cards(o.k2);
  }
  return { cores, cardsAvailable };
}

function relative(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1);
}

/**
 * Whether `next` differs materially from `last`: a cluster appeared or vanished, health counts changed, the set of
 * offers changed, or available cores or cards moved by at least the threshold.
 */
export function isMaterialChange(last: SubtreeSummary, next: SubtreeSummary, threshold: number): boolean {
  if (last.clusters !== next.clusters || last.healthy !== next.healthy || last.offers.length !== next.offers.length)
    return true;
  const a = totals(last);
  const b = totals(next);
  return relative(a.cores, b.cores) >= threshold || relative(a.cardsAvailable, b.cardsAvailable) >= threshold;
}

/** Decides whether to send `next` now, given what was last sent and when (churn below the threshold waits). */
export function shouldSend(
  input: { last: SubtreeSummary | null; lastSentAt: number | null; next: SubtreeSummary; now: number },
  options: DampingOptions,
): boolean {
  if (input.last === null || input.lastSentAt === null) return true;
  if (input.now - input.lastSentAt >= options.maxIntervalMs) return true;
  return isMaterialChange(input.last, input.next, options.threshold);
}
