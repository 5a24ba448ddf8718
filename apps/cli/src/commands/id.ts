import type { Command } from 'commander';
import {
  createSerialAllocator,
  describeIdentifier,
  formatIdentifier,
  isKind,
  KIND_CODES,
  parseIdentifier,
  parsePrefix,
  type IdentifierError,
} from '@cpnet/identifier';
import { invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';

function explain(error: IdentifierError): string {
  return `invalid identifier: ${error.segment}: ${error.message}; expected ${error.expected}`;
}

/** `cpnet id check|parse|make`. */
export function registerIdCommands(program: Command, io: Io): void {
  const id = program.command('id').description('work with 算力标识 identifiers (check, parse, make)');

  id.command('check')
    .description('validate an identifier; print its canonical form')
    .argument('<id>', 'the identifier, e.g. CPN.51.C151/CL-01JQ4ZK8M3XX1')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cpnet id check CPN.51/ND-1EJ\n  $ cpnet id check " cpn.51/nd-1ej"   # prints ' +
        'CPN.51/ND-1EJ\n\nExit codes: 0 valid, 2 invalid (one line on stderr naming the segment).',
    )
    .action((text: string) => {
      const r = parseIdentifier(text);
      if (!r.ok) throw invalidInput(explain(r.error));
      io.out(r.value.id);
    });

  id.command('parse')
    .description('split an identifier into its segments, with province and 中类 names')
    .argument('<id>', 'the identifier')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ cpnet id parse CPN.51.C151/CL-01JQ4ZK8M3XX1 --json')
    .action((text: string, opts: { json?: boolean }) => {
      const r = parseIdentifier(text);
      if (!r.ok) throw invalidInput(explain(r.error));
      const d = describeIdentifier(r.value);
      if (opts.json) return io.out(JSON.stringify(d));
      io.out(
        [
          `id        ${d.id}`,
          `prefix    ${d.prefix}`,
          `region    ${d.region ? `${d.region.code} ${d.region.name}` : '-'}`,
          `industry  ${d.industry ? `${d.industry.code} ${d.industry.name ?? '(no name in the table)'}` : '-'}`,
          `kind      ${d.kind}`,
          `serial    ${d.serial}`,
          `check     ${d.check}`,
        ].join('\n'),
      );
    });

  id.command('make')
    .description('make a new valid identifier (a generated, time-ordered serial when none is given)')
    .requiredOption('--prefix <prefix>', 'the issuing node, e.g. CPN.51.C151')
    .requiredOption('--kind <kind>', `one of ${KIND_CODES.join(' ')}`)
    .option('--serial <serial>', "1–16 characters of Crockford's base-32")
    .addHelpText(
      'after',
      '\nExamples:\n  $ cpnet id make --prefix CPN.51.C151 --kind CL\n  $ cpnet id make --prefix CPN.51 --kind ND ' +
        '--serial 1   # CPN.51/ND-1EJ',
    )
    .action((opts: { prefix: string; kind: string; serial?: string }) => {
      const prefix = parsePrefix(opts.prefix);
      if (!prefix.ok)
        throw invalidInput(
          `invalid --prefix: ${prefix.error.segment}: ${prefix.error.message}; expected ${prefix.error.expected}`,
        );
      const kind = opts.kind.trim().toUpperCase();
      if (!isKind(kind)) throw invalidInput(`invalid --kind "${opts.kind}"; expected one of ${KIND_CODES.join(' ')}`);
      const serial = opts.serial?.trim().toUpperCase() ?? createSerialAllocator({ clock: Date }).next();
      const made = formatIdentifier({ prefix: prefix.value.prefix, kind, serial });
      if (!made.ok) throw invalidInput(`invalid --serial: ${made.error.message}; expected ${made.error.expected}`);
      io.out(made.value);
    });
}
