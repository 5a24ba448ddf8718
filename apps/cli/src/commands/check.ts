import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { EXIT } from '@cpnet/protocol';
import { CliExit, environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';
import { initConformance } from '../check/init.ts';
import { LIST_VERSIONS, runConformance, type ConformanceReport, type ListVersion } from '../check/run.ts';
import { conformanceJunit } from '../check/junit.ts';
import { CheckSetupError } from '../check/state.ts';

function role(value: string | undefined): 'regional' | 'industry' {
  if (value === 'regional' || value === 'industry') return value;
  throw invalidInput(`--as must be regional or industry, not "${value ?? ''}"`);
}

function listVersion(value: string | undefined): ListVersion {
  const v = value ?? '1.1';
  if ((LIST_VERSIONS as readonly string[]).includes(v)) return v as ListVersion;
  throw invalidInput(`--list must be one of ${LIST_VERSIONS.join(', ')}, not "${v}"`);
}

function seconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw invalidInput(`${name} must be a positive number of seconds, not "${value}"`);
  return n * 1000;
}

function port(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65534)
    throw invalidInput(`--port must be an integer from 1 to 65534, not "${value}"`);
  return n;
}

function mapSetup(e: unknown): never {
  if (e instanceof CheckSetupError) throw e.kind === 'usage' ? invalidInput(e.message) : environmentFailed(e.message);
  throw e;
}

function write(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw environmentFailed(`cannot write ${file}: ${(e as Error).message}`);
  }
}

/** "1 MUST check failed, 21 not run". */
function mustFailed(report: ConformanceReport): string {
  const failed = report.checks.filter((c) => !c.passed && !c.notRun).length;
  const notRun = report.checks.filter((c) => c.notRun).length;
  return `${failed} MUST check(s) failed${notRun > 0 ? `, ${notRun} not run` : ''}`;
}

function summary(report: ConformanceReport): string {
  const ran = report.checks.filter((c) => !c.notRun);
  const skipped = report.checks.filter((c) => c.notRun);
  const lines = ran.map((c) => {
    const ev = c.evidence as { expected?: string; detail?: string } | undefined;
    return (
      `${c.passed ? 'PASS' : 'FAIL'}  ` +
      `${c.id}${c.passed ? '' : `\n      ${ev?.detail ?? ''}${ev?.expected ? `${ev.detail ? ' — ' : ''}expected ${ev.expected}` : ''}`}`
    );
  });
  // Checks that never ran share one reason (the step that stopped the run): one line, not one failure each.
  if (skipped.length > 0) {
    const why = (skipped[0]!.evidence as { detail?: string } | undefined)?.detail ?? 'not run';
    lines.push(`SKIP  ${skipped.length} check(s) ${why}: ${skipped.map((c) => c.id).join(', ')}`);
  }
  const passed = ran.filter((c) => c.passed).length;
  const failed = ran.length - passed;
  return [
    `conformance of ${report.code ?? '?'} at ${report.target} (as ${report.as}, check list ${report.listVersion})`,
    ...lines,
    `${passed} passed, ${failed} failed${skipped.length > 0 ? `, ${skipped.length} not run` : ''}: ` +
      `${report.passed ? 'CONFORMS' : 'DOES NOT CONFORM'}`,
  ].join('\n');
}

/** `cpnet check init|run`: joint-debugging conformance checks of a team's own node against virtual parents. */
export function registerCheckCommands(program: Command, io: Io): Command {
  const check = program
    .command('check')
    .description(
      'joint-debugging (对接联调) conformance checks of your own node against a virtual national (and regional) node',
    );

  check
    .command('init')
    .description(
      'create a virtual national root in a state folder; print the trust anchor, the parent URL and a sample application',
    )
    .requiredOption('--state <dir>', "state folder (keeps the virtual nodes' keys and databases between init and run)")
    .option(
      '--port <port>',
      "port of the virtual national node (an industry target's regional parent takes the next port); a free one when absent",
    )
    .option('--as <role>', 'regional | industry: the role of the node under test', 'regional')
    .option('--code <prefix>', 'the code your node applies for (default CPN.51, or CPN.51.C151 for industry)')
    .option('--json', 'print { trustAnchor, parentUrl, application } as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cpnet check init --state ./check --port 7400\n  $ cpnet check init --state ./check-c151 --as ' +
        'industry --code CPN.51.C151 --json\n\nThen start your node with --parent <parentUrl> --trust-anchor ' +
        '<trustAnchor> --application <your edited application>.\nExit codes: 0 done; 2 bad usage; 3 the folder cannot be written.',
    )
    .action(async (opts: { state: string; port?: string; as?: string; code?: string; json?: boolean }) => {
      const as = role(opts.as);
      const r = await initConformance({ stateDir: opts.state, as, code: opts.code, port: port(opts.port) }).catch(
        mapSetup,
      );
      if (opts.json) return io.out(JSON.stringify(r));
      io.out(
        [
          `trust anchor (national root):  ${r.trustAnchor}`,
          `parent URL:                    ${r.parentUrl}`,
          `sample application:            ${r.application}   (edit it with your own data; it meets the guide's rules as it is)`,
          '',
          'Start your node, before or after `cpnet check run`, with:',
          `  --parent ${r.parentUrl} --trust-anchor ${r.trustAnchor} --application <your application.json>`,
          `e.g. cpnet node start --role ${as} --code <your code> --port 7051 --data ./data --parent ${r.parentUrl} ` +
            `--trust-anchor ${r.trustAnchor} --application ${r.application}`,
          `then: cpnet check run --state ${opts.state} --target http://127.0.0.1:7051 --as ${as}`,
        ].join('\n'),
      );
    });

  check
    .command('run')
    .description(
      "start the virtual parent(s), review the target's application by the guide's rules, run every conformance check",
    )
    .requiredOption('--state <dir>', 'the state folder made by `cpnet check init`')
    .requiredOption('--target <url>', 'the URL of your node (its advertised endpoint)')
    .requiredOption('--as <role>', 'regional | industry')
    .option('--junit <file>', 'write a JUnit XML report (one testcase per check)')
    .option(
      '--json <file>',
      'write the JSON report { target, passed, checks: [{ id, description, passed, evidence? }] }',
    )
    .option(
      '--list <version>',
      'the check list: 1.1 (the protocol and the node functions with a virtual provider) or 1.0 (the protocol)',
      '1.1',
    )
    .option('--timeout <s>', 'seconds each request of a check may take', '5')
    .option(
      '--flow-wait <s>',
      'seconds a summary, job update or metering total the target sends by itself may take to reach the parent',
      '15',
    )
    .option(
      '--dark-wait <s>',
      'seconds the target may take to re-place the jobs of a cluster that goes dark (45 s of silence make it down)',
      '60',
    )
    .option('--wait <s>', 'seconds to wait for the application, its review and the reverse joint debugging', '300')
    .option('--log-level <level>', 'log level of the virtual nodes (stderr)', 'silent')
    .option('--quiet', 'no progress lines')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cpnet check run --state ./check --target http://127.0.0.1:7051 --as regional --junit check.xml --json check.json\n  $ cpnet check run --state ./check --target http://127.0.0.1:7051 --as regional --list 1.0\n\nExit codes: 0 every MUST holds; 1 a MUST failed (evidence in the report); 2 bad usage; 3 the environment failed (a port in use).',
    )
    .action(
      async (opts: {
        state: string;
        target: string;
        as: string;
        junit?: string;
        json?: string;
        timeout?: string;
        wait?: string;
        list?: string;
        flowWait?: string;
        darkWait?: string;
        logLevel?: string;
        quiet?: boolean;
      }) => {
        const as = role(opts.as);
        const timeoutMs = seconds('--timeout', opts.timeout, 5);
        const waitMs = seconds('--wait', opts.wait, 300);
        const flowWaitMs = seconds('--flow-wait', opts.flowWait, 15);
        const list = listVersion(opts.list);
        const darkWaitMs = seconds('--dark-wait', opts.darkWait, 60);
        const logger = pino({ level: opts.logLevel ?? 'silent' }, pino.destination(2));
        const report = await runConformance({
          stateDir: opts.state,
          target: opts.target,
          as,
          timeoutMs,
          waitMs,
          flowWaitMs,
          darkWaitMs,
          list,
          logger,
          progress: opts.quiet ? undefined : (l) => io.err(l),
        }).catch(mapSetup);
        if (opts.json) write(opts.json, `${JSON.stringify(report, null, 2)}\n`);
        if (opts.junit) write(opts.junit, conformanceJunit(report));
        io.out(summary(report));
        if (!report.passed) throw new CliExit(EXIT.CHECK_FAILED, mustFailed(report));
      },
    );
  return check;
}
