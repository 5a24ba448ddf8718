import { describe, expect, it } from 'vitest';
import { ALIBABA_POD_COLUMNS, generateAlibabaPods, parseAlibabaPods } from './alibaba.ts';

describe('Alibaba gpu-v2023 pod format', () => {
  it('generates rows in the trace format that parse back into jobs', () => {
    const csv = generateAlibabaPods({ seed: 3, pods: 500 });
    expect(csv.split('\n')[0]).toBe(ALIBABA_POD_COLUMNS.join(','));
    const r = parseAlibabaPods(csv);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.jobs).toHaveLength(500);
    expect(r.jobs[0]!.arrivalS).toBe(0);
    expect(r.jobs.some((j) => j.gpus > 0) && r.jobs.some((j) => j.gpus === 0)).toBe(true);
    expect(r.jobs.some((j) => j.latencyTolerant)).toBe(true);
    for (let i = 1; i < r.jobs.length; i++) expect(r.jobs[i]!.arrivalS).toBeGreaterThanOrEqual(r.jobs[i - 1]!.arrivalS);
  });

  it('is deterministic for a seed', () => {
    expect(generateAlibabaPods({ seed: 1, pods: 50 })).toBe(generateAlibabaPods({ seed: 1, pods: 50 }));
  });

  it('names the line and column of bad data', () => {
    const csv = generateAlibabaPods({ seed: 1, pods: 3 }).replace(/\n(openb-pod-00001),(\d+)/, '\n$1,lots');
    expect(parseAlibabaPods(csv)).toEqual({
      ok: false,
      error: 'line 3: cpu_milli "lots" is not a non-negative number',
    });
    expect(parseAlibabaPods('a,b\n')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^line 1: expected the header/),
    });
  });
});
