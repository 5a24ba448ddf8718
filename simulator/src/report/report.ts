/** The outcome of one expectation. */
export interface ExpectationResult {
  readonly name: string;
  /** Virtual ms at which it was checked. */
  readonly at: number;
  readonly passed: boolean;
  readonly detail: string;
}

/** The outcome of one action. */
export interface StepResult {
  readonly at: number;
  readonly action: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The report of a scenario run (`--report out.json`). */
export interface RunReport {
  readonly scenario: string;
  readonly seed: number;
  readonly passed: boolean;
  readonly startedAt: string;
  readonly wallMs: number;
  readonly virtualMs: number;
  readonly expectations: readonly ExpectationResult[];
  readonly steps: readonly StepResult[];
  readonly metrics: Readonly<Record<string, number>>;
  /**
   * Where each acknowledged job was last dispatched, keyed so that two runs of the same seed compare: the job as
   * `stream#index` (its arrival in the stream), the cluster by its key in the plan (provider and cluster number).
   */
  readonly placements?: Readonly<Record<string, string>>;
  /** The first few submissions the nodes refused (`stream: status reason`), so a refusal count says why. */
  readonly refusals?: readonly string[];
}

/** The share (0–1) of jobs placed on the same cluster in two reports, over the jobs either placed; 1 when none. */
export function samePlacementShare(a: RunReport, b: RunReport): number {
  const pa = a.placements ?? {};
  const pb = b.placements ?? {};
  const jobs = new Set([...Object.keys(pa), ...Object.keys(pb)]);
  if (jobs.size === 0) return 1;
  let same = 0;
  for (const j of jobs) if (pa[j] !== undefined && pa[j] === pb[j]) same++;
  return same / jobs.size;
}

const escapeXml = (s: string): string =>
  s
    .replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!)
    // XML 1.0 forbids most control characters even when escaped.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');

/** JUnit XML of a run: one test case per expectation, failed actions as errors. */
export function toJunitXml(report: RunReport): string {
  const failures = report.expectations.filter((e) => !e.passed).length;
  const errors = report.steps.filter((s) => !s.ok).length;
  const cases = [
    ...report.expectations.map((e) => {
      const head =
        `    <testcase classname="${escapeXml(`scenario.${report.scenario}`)}" name="${escapeXml(e.name)}" ` +
        `time="${(e.at / 1000).toFixed(3)}"`;
      return e.passed
        ? `${head}/>`
        : `${head}>\n      <failure message="${escapeXml(e.detail.split('\n')[0] ?? '')}">${escapeXml(e.detail)}</failure>\n    ` +
            `</testcase>`;
    }),
    ...report.steps
      .filter((s) => !s.ok)
      .map(
        (s) =>
          `    <testcase classname="${escapeXml(`scenario.${report.scenario}.steps`)}" ` +
          `name="${escapeXml(`${s.action} at ${s.at} ms`)}" time="0">\n      <error ` +
          `message="${escapeXml(s.detail.split('\n')[0] ?? '')}">${escapeXml(s.detail)}</error>\n    </testcase>`,
      ),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cpnet" tests="${cases.length}" failures="${failures}" errors="${errors}" ` +
      `time="${(report.wallMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${escapeXml(report.scenario)}" tests="${cases.length}" failures="${failures}" ` +
      `errors="${errors}" time="${(report.wallMs / 1000).toFixed(3)}" timestamp="${escapeXml(report.startedAt)}">`,
    `    <properties><property name="seed" value="${report.seed}"/></properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/**
 * A readable summary for the console. A verdict and the count of expectations appear only when the scenario has
 * expectations (a demo has none: it reports the actions it ran); metrics are those the run measured.
 */
export function summarise(report: RunReport): string {
  const checked = report.expectations.length > 0;
  const failedSteps = report.steps.filter((s) => !s.ok);
  const verdict = checked ? (report.passed ? 'PASSED' : 'FAILED') : 'ran';
  const lines = [
    `scenario ${report.scenario} (seed ${report.seed}) — ${verdict} in ${(report.wallMs / 1000).toFixed(1)} s wall, ` +
      `${(report.virtualMs / 1000).toFixed(1)} s virtual`,
  ];
  for (const e of report.expectations)
    lines.push(`  ${e.passed ? '✓' : '✗'} ${e.name}${e.passed ? '' : ` — ${e.detail}`}`);
  for (const s of failedSteps) lines.push(`  ! ${s.action} at ${(s.at / 1000).toFixed(1)} s failed — ${s.detail}`);
  if (checked) {
    const passed = report.expectations.filter((e) => e.passed).length;
    lines.push(`${passed} passed, ${report.expectations.length - passed} failed`);
  } else {
    const n = report.steps.length;
    lines.push(`no expectations; ${n} action${n === 1 ? '' : 's'} run, ${failedSteps.length} failed`);
  }
  if (report.refusals?.length)
    lines.push(`refused at submission (first ${report.refusals.length}): ${report.refusals.join('; ')}`);
  const metrics = Object.entries(report.metrics);
  if (metrics.length)
    lines.push(`metrics: ${metrics.map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`).join(' ')}`);
  return lines.join('\n');
}
