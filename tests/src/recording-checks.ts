import { expect } from 'vitest';
import { contractValidator } from './contract.ts';

/**
 * A run's recording as a shipped scenario must leave it: valid JSON Lines, a header, then events and snapshots in
 * virtual-time order, and every event and snapshot the nodes sent matching docs/asyncapi.json. Used by
 * scenarios/shipped.test.ts and by sim-clock.test.ts (whose speed-10 failover replay is the shipped failover run).
 */
export function expectValidRecording(lines: readonly string[]): void {
  const parsed = lines.map((l) => JSON.parse(l) as { kind: string; t?: number });
  expect(parsed[0]?.kind).toBe('cpnet-recording');
  expect(parsed.filter((l) => l.kind === 'snapshot').length).toBeGreaterThan(1);
  expect(parsed.some((l) => l.kind === 'event')).toBe(true);
  const contract = contractValidator();
  for (const l of parsed as { kind: string; event?: unknown; state?: unknown }[]) {
    if (l.kind === 'event') contract.check('event', l.event);
    if (l.kind === 'snapshot') contract.check('state', l.state);
  }
  expect(contract.failures.slice(0, 3)).toEqual([]);
}
