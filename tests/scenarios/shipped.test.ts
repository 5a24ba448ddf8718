import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, summarise } from '@cpnet/simulator';
import { contractValidator } from '../src/contract.ts';
import { expectValidRecording } from '../src/recording-checks.ts';

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
    // failover.yaml: sim-clock.test.ts runs it at its own speed with these same checks (its speed-10 replay records),
    // beside the replays it compares with that run; a second run here would add about a minute of wall time.
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
      expectValidRecording(lines);
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
