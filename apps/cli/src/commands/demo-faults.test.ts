import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repeatFaults } from './demo.ts';
import { loadScenarioFile } from './sim.ts';

const DEMO = fileURLToPath(new URL('../../../../scenarios/demo.yaml', import.meta.url));

describe('cpnet demo: faults again every cycle', () => {
  it("plays the demo's faults again every 10 min of virtual time, each copy healed by its own name", () => {
    const demo = loadScenarioFile(DEMO);
    const steps = repeatFaults(demo.steps, { cycleMs: 600_000, untilMs: 3_600_000 });
    const kills = steps.filter((s) => 'do' in s && s.do === 'fault' && s.fault.kind === 'kill');
    // The first kill at 20 min, then 30, 40, 50 and 60 min.
    expect(kills.map((s) => s.at / 60_000)).toEqual([20, 30, 40, 50, 60]);
    expect(kills.map((s) => ('do' in s && s.do === 'fault' ? s.fault.name : ''))).toEqual([
      'crash',
      'crash~2',
      'crash~3',
      'crash~4',
      'crash~5',
    ]);
    const heals = steps.filter((s) => 'do' in s && s.do === 'heal' && s.fault.startsWith('crash'));
    expect(heals.map((s) => [s.at / 60_000, 'do' in s && s.do === 'heal' ? s.fault : ''])).toEqual([
      [23, 'crash'],
      [33, 'crash~2'],
      [43, 'crash~3'],
      [53, 'crash~4'],
    ]);
    // Nothing past the end, and the other steps untouched.
    expect(Math.max(...steps.map((s) => s.at))).toBeLessThanOrEqual(3_600_000);
    expect(steps.filter((s) => !('do' in s) || (s.do !== 'fault' && s.do !== 'heal'))).toEqual(
      demo.steps.filter((s) => !('do' in s) || (s.do !== 'fault' && s.do !== 'heal')),
    );
  });
});
