import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ACCEPTANCE_ROUTES, type AcceptanceCase } from '@cpnet/protocol';
import { environmentFailed, invalidInput, type CliExit } from '../exit.ts';
import type { Io } from '../io.ts';
import { personClient, withPersonOptions, type PersonFlags } from '../acceptance/credentials.ts';
import { reportHtml, REPORT_SECTIONS, shanghai } from '../acceptance/report-html.ts';
import { NoChromium, printPdf } from '../print/pdf.ts';

type CaseFlags = PersonFlags & { case: string };

const pathOf = (template: string, node: string) => template.replace('{node}', encodeURIComponent(node));

function refused(r: { status: number; error: { message: string; field?: string } }): CliExit {
  const where = r.error.field ? ` (${r.error.field})` : '';
  return r.status === 0 ? environmentFailed(r.error.message) : invalidInput(`${r.error.message}${where}`);
}

async function call(flags: CaseFlags, spec: { method: 'GET' | 'POST' | 'PUT'; template: string; body?: unknown }) {
  const client = await personClient(flags);
  const r = await client.request<AcceptanceCase>({
    method: spec.method,
    path: pathOf(spec.template, flags.case),
    ...(spec.body === undefined ? {} : { body: spec.body }),
  });
  if (!r.ok) throw refused(r);
  return r.value;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw invalidInput(`${file}: ${(err as Error).message}`);
  }
}

/** One line a person reads: status, what is overdue, the last decision; times in Asia/Shanghai. */
function summary(c: AcceptanceCase): string {
  const open = c.flags.filter((f) => !f.cleared).map((f) => `${f.kind} ${f.subject} (due ${shanghai(f.due)})`);
  const last = c.decisions.at(-1);
  return [
    `${c.node}: ${c.status}; approved ${shanghai(c.approvedAt)}; supervision ${c.supervision.state}`,
    ...c.milestones.map(
      (m) => `  milestone ${m.id} ${m.title}: ${m.status}${m.overdue ? ' OVERDUE' : ''}, due ${shanghai(m.due)}`,
    ),
    `  joint debugging: ${c.jointDebug.runs.length} run(s), passed ${shanghai(c.jointDebug.passedAt)}`,
    ...(last ? [`  decision: ${last.decision} by ${last.by} at ${shanghai(last.at)}`] : []),
    ...open.map((f) => `  FLAG ${f}`),
  ].join('\n');
}

const caseCommand = (parent: Command, name: string, description: string) =>
  withPersonOptions(
    parent.command(name).description(description).requiredOption('--case <prefix>', 'the approved node (CPN.51)'),
  );

/**
 * `cpnet acceptance show | own | progress | plan | gather | decide | supervise | report`: the authority's acceptance case of
 * an approved node (建设实施 → 验收), for officers, supervisors, experts and the node's people.
 */
export function registerAcceptanceCommands(program: Command, io: Io): void {
  const acc = program
    .command('acceptance')
    .description('after approval: construction plan, joint debugging on schedule, 验收 and supervision');
  caseCommand(acc, 'show', 'print the case (times in Asia/Shanghai)')
    .option('--json', 'print the case as JSON (UTC)')
    .action(async (flags: CaseFlags & { json?: boolean }) => {
      const c = await call(flags, { method: 'GET', template: ACCEPTANCE_ROUTES.case });
      io.out(flags.json ? JSON.stringify(c, null, 2) : summary(c));
    });
  withPersonOptions(
    acc
      .command('progress')
      .description('report a construction milestone at your own node (an operator); the node signs it to its authority')
      .requiredOption('--milestone <id>', 'the milestone id from the plan')
      .option('--status <s>', 'in-progress | done', 'done')
      .option('--note <text>', 'what was done'),
  ).action(async (flags: PersonFlags & { milestone: string; status: string; note?: string }) => {
    const client = await personClient(flags);
    const r = await client.request<AcceptanceCase>({
      method: 'POST',
      path: ACCEPTANCE_ROUTES.ownMilestone.replace('{milestone}', encodeURIComponent(flags.milestone)),
      body: { status: flags.status, ...(flags.note ? { note: flags.note } : {}) },
    });
    if (!r.ok) throw refused(r);
    io.out(summary(r.value));
  });
  withPersonOptions(
    acc.command('own').description("your own node's case as its authority keeps it (an operator of the node)"),
  ).action(async (flags: PersonFlags) => {
    const client = await personClient(flags);
    const r = await client.request<AcceptanceCase>({ method: 'GET', path: ACCEPTANCE_ROUTES.own });
    if (!r.ok) throw refused(r);
    io.out(summary(r.value));
  });
  caseCommand(acc, 'plan', 'set the 实施计划: milestones with dates and the joint-debugging window (JSON file)')
    .requiredOption(
      '--file <file>',
      '{ "milestones": [{ "id", "title", "due" }], "jointDebugWindow": { "from", "to" } }',
    )
    .action(async (flags: CaseFlags & { file: string }) => {
      const c = await call(flags, { method: 'PUT', template: ACCEPTANCE_ROUTES.plan, body: readJson(flags.file) });
      io.out(summary(c));
    });
  caseCommand(acc, 'gather', "fetch the node's evidence pack into the case")
    .option('--from <time>', 'start of the runtime period (RFC 3339, offsets accepted)')
    .option('--to <time>', 'end of the runtime period')
    .action(async (flags: CaseFlags & { from?: string; to?: string }) => {
      const body = { ...(flags.from ? { from: flags.from } : {}), ...(flags.to ? { to: flags.to } : {}) };
      const c = await call(flags, { method: 'POST', template: ACCEPTANCE_ROUTES.gather, body });
      io.out(summary(c));
    });
  caseCommand(acc, 'decide', 'record the 验收 decision (acceptance officers)')
    .requiredOption('--decision <d>', 'pass | pass-with-conditions | fail')
    .requiredOption('--reason <text...>', 'the reasons')
    .option(
      '--condition <text@due...>',
      'a condition and its due date, e.g. "补充应急演练记录@2027-01-15T18:00:00+08:00"',
    )
    .action(async (flags: CaseFlags & { decision: string; reason: string[]; condition?: string[] }) => {
      const conditions = (flags.condition ?? []).map((k) => {
        const at = k.lastIndexOf('@');
        if (at < 1) throw invalidInput(`--condition "${k}": write text@due`);
        return { text: k.slice(0, at), due: k.slice(at + 1) };
      });
      const body = { decision: flags.decision, reasons: flags.reason, ...(conditions.length ? { conditions } : {}) };
      const c = await call(flags, { method: 'POST', template: ACCEPTANCE_ROUTES.decisions, body });
      io.out(summary(c));
    });
  caseCommand(acc, 'supervise', '监督指导: suspend, require-rectification, reinspect, restore (supervisors)')
    .requiredOption('--action <a>', 'suspend | require-rectification | reinspect | restore')
    .requiredOption('--reason <text>', 'why')
    .option('--due <time>', 'require-rectification: due date')
    .option('--result <r>', 'reinspect: pass | fail')
    .action(async (flags: CaseFlags & { action: string; reason: string; due?: string; result?: string }) => {
      const body = {
        action: flags.action,
        reason: flags.reason,
        ...(flags.due ? { due: flags.due } : {}),
        ...(flags.result ? { result: flags.result } : {}),
      };
      const c = await call(flags, { method: 'POST', template: ACCEPTANCE_ROUTES.supervision, body });
      io.out(summary(c));
    });
  caseCommand(acc, 'report', 'export the evidence pack and decision as JSON and as a PDF (Chinese text)')
    .requiredOption('--out <base>', 'writes <base>.json and <base>.pdf')
    .option('--no-pdf', 'write the JSON only')
    .action(async (flags: CaseFlags & { out: string; pdf: boolean }) => {
      const c = await call(flags, { method: 'GET', template: ACCEPTANCE_ROUTES.case });
      writeReport(io, { c, out: flags.out, pdf: flags.pdf });
      if (flags.pdf) {
        const bytes = await printPdf(reportHtml(c), { footer: `${REPORT_SECTIONS.title} · ${c.node}` }).catch(
          (e: unknown) => {
            throw e instanceof NoChromium ? environmentFailed(e.message) : environmentFailed((e as Error).message);
          },
        );
        writeFileSync(`${flags.out}.pdf`, bytes);
        io.out(`wrote ${flags.out}.pdf`);
      }
    });
}

function writeReport(io: Io, input: { c: AcceptanceCase; out: string; pdf: boolean }): void {
  try {
    writeFileSync(`${input.out}.json`, `${JSON.stringify(input.c, null, 2)}\n`);
  } catch (err) {
    throw environmentFailed(`cannot write ${input.out}.json: ${(err as Error).message}`);
  }
  io.out(`wrote ${input.out}.json`);
}
