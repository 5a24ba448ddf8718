import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { expandTopology, formatScenarioErrors, parseScenario, scenarioJsonSchema, type ScenarioData } from '@cpnet/simulator';
import { environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';

/** Reads and validates a scenario file; a bad file is invalid input (exit 2) naming file, line and field. */
export function loadScenarioFile(file: string): ScenarioData {
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
  const sim = program.command('sim').description('the simulator: validate scenarios, print their schema');

  sim.command('validate')
    .description('validate a scenario file and summarise what it would start')
    .argument('<scenario>', 'a scenario YAML file, e.g. scenarios/onboarding.yaml')
    .option('--json', 'print the expanded topology as JSON')
    .addHelpText('after', '\nExamples:\n  $ cpnet sim validate scenarios/onboarding.yaml\n\nExit codes: 0 valid; 2 invalid (each error as file:line:column: field: message).')
    .action((file: string, opts: { json?: boolean }) => {
      const scenario = loadScenarioFile(file);
      const plan = expandTopology(scenario.topology, scenario.seed);
      if (opts.json) return io.out(JSON.stringify({ scenario: scenario.name, seed: scenario.seed, ...plan }));
      const clusters = plan.providers.reduce((n, p) => n + p.clusters.length, 0);
      const roles = (r: string) => plan.nodes.filter((n) => n.role === r).length;
      io.out([
        `${file}: scenario "${scenario.name}" is valid (seed ${scenario.seed})`,
        `  nodes      ${plan.nodes.length} (1 national, ${roles('regional')} regional, ${roles('industry')} industry)`,
        `  providers  ${plan.providers.length} with ${clusters} clusters`,
        `  workload   ${scenario.workload.jobs.length} job stream(s)${scenario.workload.trace ? ', a trace' : ''}`,
        `  steps      ${scenario.steps.length}`,
      ].join('\n'));
    });

  sim.command('schema')
    .description('print the JSON Schema of scenario files (for editors)')
    .action(() => io.out(JSON.stringify(scenarioJsonSchema(), null, 2)));
  return sim;
}
