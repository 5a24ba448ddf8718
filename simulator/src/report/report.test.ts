import { describe, expect, it } from 'vitest';
import { summarise, toJunitXml, type RunReport } from './report.ts';

const report: RunReport = {
  scenario: 'failover',
  seed: 7,
  passed: false,
  startedAt: '2026-11-26T00:00:00.000Z',
  wallMs: 12_345,
  virtualMs: 600_000,
  expectations: [
    { name: 'CPN.51 is online', at: 60_000, passed: true, detail: '' },
    { name: 'nothing lost', at: 600_000, passed: false, detail: 'lost 2 acknowledged writes: <a> & "b"\u0001' },
  ],
  steps: [{ at: 30_000, action: 'fault kill CPN.51', ok: false, detail: 'no such node' }],
  metrics: { failover_p99_ms: 1234.5, jobs_lost: 0 },
};

describe('reports', () => {
  it('write JUnit XML with failures and errors, escaped', () => {
    const xml = toJunitXml(report);
    expect(xml).toContain('tests="3" failures="1" errors="1"');
    expect(xml).toContain('<failure message="lost 2 acknowledged writes: &lt;a&gt; &amp; &quot;b&quot;">');
    expect(xml).not.toContain('\u0001');
    expect(xml).toContain('<property name="seed" value="7"/>');
  });

  it('summarise with the plain closing line', () => {
    const text = summarise(report);
    expect(text).toContain('✗ nothing lost');
    expect(text.split('\n')).toContain('1 passed, 1 failed');
    expect(text).toContain('failover_p99_ms=1234.50');
    expect(text).not.toContain('refused at submission');
    const refused = summarise({ ...report, refusals: ['training: 504 the node did not answer in time'] });
    expect(refused).toContain('refused at submission (first 1): training: 504 the node did not answer in time');
  });

  it('summarise a run without expectations (the demo) without a verdict or "0 passed, 0 failed"', () => {
    const text = summarise({ ...report, passed: true, expectations: [], steps: [{ ...report.steps[0]!, ok: true }] });
    expect(text).not.toMatch(/PASSED|FAILED|0 passed/);
    expect(text.split('\n')[0]).toMatch(/^scenario failover \(seed 7\) — ran in 12\.3 s wall/);
    expect(text).toContain('no expectations; 1 action run, 0 failed');
  });
});
