import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, summarise } from '@cpnet/simulator';
import { contractValidator } from '../src/contract.ts';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scenarios');
// Scenarios that need parts of the system not built yet are listed by name in their own test files, not here.
const shipped = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('shipped scenarios', () => {
  it('are all valid', () => {
    for (const f of shipped) {
      const r = parseScenario(readFileSync(path.join(dir, f), 'utf8'), f);
      expect(r.ok, r.ok ? f : JSON.stringify(r.errors)).toBe(true);
    }
  });

  it.each([
    'onboarding.yaml',
    'joint-debugging.yaml',
    'failover.yaml',
    'east-data-west-compute.yaml',
    'security.yaml',
    'trace-replay.yaml',
    'sichuan-2026.yaml',
    // ~16–21 s of wall time at speed max on a loaded 2-core machine.
    'data-gravity.yaml',
  ])(
    '%s passes end to end against real nodes',
    async (file) => {
      const r = parseScenario(readFileSync(path.join(dir, file), 'utf8'), file);
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      const lines: string[] = [];
      const report = await runScenario(r.value, { record: (l) => lines.push(l), logLevel: 'warn' });
      expect(report.passed, summarise(report)).toBe(true);
      expect(report.expectations.length).toBeGreaterThan(3);
      // The recording is valid JSON Lines: a header, then events and snapshots in virtual-time order.
      const parsed = lines.map((l) => JSON.parse(l) as { kind: string; t?: number });
      expect(parsed[0]?.kind).toBe('cpnet-recording');
      expect(parsed.filter((l) => l.kind === 'snapshot').length).toBeGreaterThan(1);
      expect(parsed.some((l) => l.kind === 'event')).toBe(true);
      // Every event and snapshot the nodes sent during the scenario matches docs/asyncapi.json.
      const contract = contractValidator();
      for (const l of parsed as { kind: string; event?: unknown; state?: unknown }[]) {
        if (l.kind === 'event') contract.check('event', l.event);
        if (l.kind === 'snapshot') contract.check('state', l.state);
      }
      expect(contract.failures.slice(0, 3)).toEqual([]);
    },
    240_000,
  );

  // 15 days of calendar in about 40 s of wall time on a quiet machine (advance step, speed 4): capped at 120 s wall.
  it('acceptance.yaml: construction, joint debugging in its window, 验收 and supervision', async () => {
    const r = parseScenario(readFileSync(path.join(dir, 'acceptance.yaml'), 'utf8'), 'acceptance.yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const lines: string[] = [];
    const report = await runScenario(r.value, { record: (l) => lines.push(l), logLevel: 'warn' });
    expect(report.passed, summarise(report)).toBe(true);
    expect(report.expectations.length).toBeGreaterThan(10);
    const contract = contractValidator();
    const events = lines.map((l) => JSON.parse(l) as { kind: string; event?: { type: string } });
    for (const l of events) if (l.kind === 'event') contract.check('event', l.event);
    expect(contract.failures.slice(0, 3)).toEqual([]);
    const types = new Set(events.map((l) => l.event?.type));
    expect(types.has('acceptance.flag') && types.has('acceptance.decided') && types.has('acceptance.supervision')).toBe(
      true,
    );
  }, 120_000);
});
