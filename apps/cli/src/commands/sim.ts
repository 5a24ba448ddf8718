import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import {
  expandTopology,
  formatScenarioErrors,
  hostsUnavailable,
  killAllProcessNodes,
  parseScenario,
  processModeProblems,
  runScenario,
  scenarioJsonSchema,
  summarise,
  toJunitXml,
  type Progress,
  type Scenario,
} from '@cpnet/simulator';
import { EXIT } from '@cpnet/protocol';
import { CliExit } from '../exit.ts';
import { environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';

/** Reads and validates a scenario file; a bad file is invalid input (exit 2) naming file, line and field. */
export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw invalidInput(`${file}: no such scenario file`);
    throw environmentFailed(`${file}: cannot read (${code ?? 'error'})`);
  }
  const r = parseScenario(text, file);
  if (!r.ok) throw invalidInput(`invalid scenario\n${formatScenarioErrors(r.errors)}`);
  try {
    expandTopology(r.value.topology, r.value.seed);
  } catch (e) {
    throw invalidInput(`invalid scenario\n${file}: ${(e as Error).message}`);
  }
  return r.value;
}

/** `cpnet sim validate|schema`. */
export function registerSimCommands(program: Command, io: Io): Command {
  const sim = program
    .command('sim')
    .description(
      'the simulator: validate a scenario, run it against real nodes, bring its topology up for exploration, ' +
        'print the scenario schema',
    );

  sim
    .command('validate')
    .description('validate a scenario file and summarise what it would start')
    .argument('<scenario>', 'a scenario YAML file, e.g. scenarios/onboarding.yaml')
    .option('--json', 'print the expanded topology as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cpnet sim validate scenarios/onboarding.yaml\n\nExit codes: 0 valid; 2 invalid (each error as ' +
        'file:line:column: field: message).',
    )
    .action((file: string, opts: { json?: boolean }) => {
      const scenario = loadScenarioFile(file);
      const plan = expandTopology(scenario.topology, scenario.seed);
      if (opts.json) return io.out(JSON.stringify({ scenario: scenario.name, seed: scenario.seed, ...plan }));
      const clusters = plan.providers.reduce((n, p) => n + p.clusters.length, 0);
      const roles = (r: string) => plan.nodes.filter((n) => n.role === r).length;
      io.out(
        [
          `${file}: scenario "${scenario.name}" is valid (seed ${scenario.seed})`,
          `  nodes      ${plan.nodes.length} (1 national, ${roles('regional')} regional, ${roles('industry')} industry)`,
          `  providers  ${plan.providers.length} with ${clusters} clusters`,
          `  workload   ${scenario.workload.jobs.length} job stream(s)${scenario.workload.trace ? ', a trace' : ''}`,
          `  steps      ${scenario.steps.length}`,
        ].join('\n'),
      );
    });

  sim
    .command('run')
    .description('run a scenario end to end against real node servers; exit 0 only when every expectation holds')
    .argument('<scenario>', 'a scenario YAML file')
    .option('--seed <n>', 'override the scenario seed', parseInteger('--seed', 0, 2 ** 31))
    .option(
      '--speed <x>',
      'virtual time runs at most this many times faster than wall time, or max: as fast as the nodes keep up, ' +
        "skipping idle time (default: the scenario's, else 10)",
      parseSpeed,
    )
    .option('--report <file>', 'write the JSON report')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--record <file>', 'write a recording (JSON Lines) for `cpnet viz --replay`')
    .option('--data <dir>', 'keep the node databases in this folder (default: a temporary folder, removed)')
    .option('--quiet', 'print only the summary')
    .option(
      '--processes',
      'run every node as its own OS process (`cpnet node start`; a kill is a real SIGKILL); needs speed 1, no skew-clock faults',
    )
    .option(
      '--hosts',
      'run every node as its own process on a separate host: a network namespace with its own address (10.77.x.y) ' +
        'on a bridge; root on Linux only; implies --processes',
    )
    .option(
      '--threads <n>',
      "host the nodes in n worker threads, or auto (one per core), to use every core (default: the scenario's " +
        '`threads`, else 0: the main thread)',
      parseThreads,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ cpnet sim run scenarios/onboarding.yaml\n  $ cpnet sim run scenarios/failover.yaml --junit ' +
        'failover.xml --record failover.jsonl\n  $ cpnet sim run simulator/test-fixtures/process-failover.yaml ' +
        '--processes --speed 1\n  $ sudo cpnet sim run simulator/test-fixtures/hosts.yaml --hosts\n  $ cpnet sim run ' +
        'scenarios/scale.yaml --threads auto\n\nExit codes: 0 every ' +
        'expectation held; 1 one failed; 2 invalid scenario or option; 3 the environment failed.',
    )
    .action(
      async (
        file: string,
        opts: {
          seed?: number;
          speed?: number | 'max';
          report?: string;
          junit?: string;
          record?: string;
          data?: string;
          quiet?: boolean;
          processes?: boolean;
          hosts?: boolean;
          threads?: number | 'auto';
        },
      ) => {
        const scenario = loadScenarioFile(file);
        const processes = (opts.hosts ?? false) || (opts.processes ?? scenario.processes);
        if (opts.hosts) {
          const why = hostsUnavailable();
          if (why) throw environmentFailed(`--hosts: ${why}`);
        }
        if (processes && (opts.threads ?? scenario.threads) !== 0)
          throw invalidInput(
            '--threads and --processes exclude each other: nodes run either in worker threads or as OS processes',
          );
        if (processes) {
          const problems = processModeProblems(scenario, { speed: opts.speed });
          if (problems.length) {
            const hint = (p: (typeof problems)[number]) =>
              p.path[0] === 'speed' && opts.speed === undefined ? ' (pass --speed 1)' : '';
            const lines = problems.map((p) => `  ${p.path.join('.')}: ${p.message}${hint(p)}`);
            throw invalidInput(`cannot run ${file} in process mode:\n${lines.join('\n')}`);
          }
        }
        // Ctrl-C ends the run early and shuts every node down (child processes included); a second one kills them at once.
        const stop = new AbortController();
        const onSignal = () => {
          if (stop.signal.aborted) {
            killAllProcessNodes();
            process.exit(130);
          }
          io.out('\nstopping the simulation …');
          stop.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        const recording = opts.record ? openSink(opts.record) : null;
        const report = await runScenario(scenario, {
          seed: opts.seed,
          speed: opts.speed,
          dir: opts.data,
          logLevel: 'warn',
          baseDir: path.dirname(file),
          processes,
          hosts: opts.hosts ?? false,
          threads: processes ? 0 : opts.threads,
          signal: stop.signal,
          record: recording?.write,
          onProgress: opts.quiet ? undefined : (p) => printProgress(io, p),
        })
          .catch((e: Error) => {
            throw new CliExit(EXIT.ENVIRONMENT, `the simulation could not run: ${e.message}`);
          })
          .finally(() => {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
          });
        await recording?.close();
        io.out(summarise(report));
        if (opts.report) writeOut(opts.report, `${JSON.stringify(report, null, 2)}\n`);
        if (opts.junit) writeOut(opts.junit, toJunitXml(report));
        if (!report.passed) throw new CliExit(EXIT.CHECK_FAILED, `scenario ${scenario.name} failed`);
      },
    );

  sim
    .command('up')
    .description('start a topology (from a scenario file) and keep it running for exploration; Ctrl-C stops it')
    .argument('<scenario>', 'a scenario YAML file whose topology to start')
    .option('--data <dir>', 'keep the node databases in this folder')
    .option('--processes', 'run every node as its own OS process (`cpnet node start`), logs in <data>/<node>/node.log')
    .action(async (file: string, opts: { data?: string; processes?: boolean }) => {
      const loaded = loadScenarioFile(file);
      // The topology with its providers and clusters, reviewed automatically, at real speed; no workload, no steps.
      const scenario: Scenario = {
        ...loaded,
        topology: { ...loaded.topology, review: 'auto' },
        workload: { jobs: [] },
        steps: [],
      };
      const dir = opts.data ?? mkdtempSync(path.join(tmpdir(), 'cpnet-up-'));
      const processes = opts.processes ?? scenario.processes;
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const report = await runScenario(scenario, {
        speed: 1,
        dir,
        logLevel: 'warn',
        processes,
        baseDir: path.dirname(file),
        signal: stop.signal,
        untilAborted: true,
        onStarted: (net) => {
          const plan = net.plan;
          const clusters = plan.providers.reduce((n, p) => n + p.clusters.length, 0);
          io.out(
            `topology "${scenario.name}" is up (data in ${dir}${processes ? '; one process per node' : ''}); ` +
              'nodes apply, are reviewed and come online in a few seconds:',
          );
          for (const n of plan.nodes)
            io.out(
              `  ${n.code.padEnd(14)} ${net.urlOf(n.code)}   ${n.name}` +
                (processes ? `   pid ${net.nodes.get(n.code)?.pid ?? '-'}` : ''),
            );
          if (plan.providers.length)
            io.out(
              `${plan.providers.length} provider(s) with ${clusters} cluster(s) register as their nodes come online ` +
                '(GET /cpn/v1/market at a node lists them).',
            );
          io.out('Ctrl-C stops every node.');
        },
      })
        .catch((e: unknown) => {
          throw new CliExit(EXIT.ENVIRONMENT, `cannot start the topology: ${(e as Error).message}`);
        })
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        });
      for (const s of report.steps.filter((x) => !x.ok)) io.err(`! ${s.action}: ${s.detail}`);
    });

  sim
    .command('schema')
    .description('print the JSON Schema of scenario files (for editors)')
    .action(() => io.out(JSON.stringify(scenarioJsonSchema(), null, 2)));
  return sim;
}

function parseNumber(flag: string, min: number, max: number) {
  return (text: string): number => {
    const v = Number(text);
    if (!Number.isFinite(v) || v < min || v > max)
      throw invalidInput(`${flag} must be a number from ${min} to ${max}, got "${text}"`);
    return v;
  };
}

/** `--speed`: a factor from 0.1 to 1000, or max. */
function parseSpeed(text: string): number | 'max' {
  return text === 'max' ? 'max' : parseNumber('--speed', 0.1, 1000)(text);
}

/** `--threads`: a count of worker threads (0–64) or auto (one per core). */
function parseThreads(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0 || v > 64)
    throw invalidInput(`--threads must be auto or a whole number from 0 to 64, got "${text}"`);
  return v;
}

function parseInteger(flag: string, min: number, max: number) {
  return (text: string): number => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min || v > max)
      throw invalidInput(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
    return v;
  };
}

function openSink(file: string): { write: (line: string) => void; close: () => Promise<void> } {
  const stream = createWriteStream(file);
  stream.on('error', () => undefined);
  return {
    write: (line) => void stream.write(`${line}\n`),
    close: () => new Promise((resolve) => stream.end(() => resolve())),
  };
}

function writeOut(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new CliExit(EXIT.ENVIRONMENT, `cannot write ${file}: ${(e as Error).message}`);
  }
}

function printProgress(io: Io, p: Progress): void {
  const t = (ms: number) => `[${(ms / 1000).toFixed(1).padStart(6)} s]`;
  if (p.kind === 'started') io.out(`running ${p.scenario}: ${p.nodes} nodes, ${p.steps} steps`);
  if (p.kind === 'action')
    io.out(
      `${t(p.result.at)} ${p.result.ok ? '·' : '!'} ${p.result.action}${p.result.ok ? '' : ` — ${p.result.detail}`}`,
    );
  if (p.kind === 'expectation')
    io.out(
      `${t(p.result.at)} ${p.result.passed ? '✓' : '✗'} ${p.result.name}${p.result.passed ? '' : ` — ${p.result.detail}`}`,
    );
}
