import type { ConformanceReport } from './run.ts';

const escape = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu, '');

/** The report as JUnit XML: one testcase per check, a failure with the evidence (JSON) when it failed. */
export function conformanceJunit(report: ConformanceReport): string {
  const failures = report.checks.filter((c) => !c.passed && !c.notRun).length;
  const skipped = report.checks.filter((c) => c.notRun).length;
  const cases = report.checks.map((c) => {
    const head = `    <testcase classname="cpnet.conformance.${report.as}" name="${escape(c.id)}">`;
    const props = `\n      <system-out>${escape(c.description)}</system-out>`;
    if (c.passed) return `${head}${props}\n    </testcase>`;
    const ev = c.evidence as { expected?: string; detail?: string } | undefined;
    if (c.notRun)
      return `${head}\n      <skipped message="${escape(ev?.detail ?? 'not run')}"/>${props}\n    </testcase>`;
    const message = ev?.detail ?? (ev?.expected ? `expected ${ev.expected}` : 'failed');
    return (
      `${head}\n      <failure message="${escape(message)}" ` +
      `type="MUST">${escape(JSON.stringify(c.evidence, null, 2))}</failure>${props}\n    </testcase>`
    );
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cpnet check" tests="${report.checks.length}" failures="${failures}" skipped="${skipped}">`,
    `  <testsuite name="${escape(`conformance of ${report.code ?? report.target} (${report.as})`)}" ` +
      `tests="${report.checks.length}" failures="${failures}" skipped="${skipped}" timestamp="${report.startedAt}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
