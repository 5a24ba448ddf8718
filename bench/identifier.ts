// Full identifier validations per CPU second (grammar, code tables, check characters, returning segments or the
// error) over 1,000,000 mixed valid and invalid identifiers, against a bare anchored regular expression test of the
// same strings, both after a warm-up pass; process CPU time, so that load from elsewhere does not count.
import { pathToFileURL } from 'node:url';
import { createRng } from '@cpnet/kernel';
import { CROCKFORD_ALPHABET, formatIdentifier, KIND_CODES, parseIdentifier, PROVINCES } from '@cpnet/identifier';
import { printTable, writeFigures } from './lib.ts';

const N = 1_000_000;
const BARE = /^CPN(?:\.\d{2}(?:\.[A-T]\d{3})?)?\/(?:ND|PV|CL|RP|SV|JB)-[0-9A-HJKMNP-TV-Z]{1,16}[0-9A-Z]{2}$/;
const INDUSTRIES = ['C151', 'C397', 'C276', 'C341', 'I651', 'I645', 'J662'];

function corpus(): string[] {
  const rand = createRng(42).next;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const valid = (): string => {
    const level = rand();
    const region = pick(PROVINCES).code;
    const prefix = level < 0.1 ? 'CPN' : level < 0.4 ? `CPN.${region}` : `CPN.${region}.${pick(INDUSTRIES)}`;
    const len = rand() < 0.7 ? 12 : 1 + Math.floor(rand() * 16);
    let serial = '';
    for (let i = 0; i < len; i++) serial += pick([...CROCKFORD_ALPHABET]);
    const r = formatIdentifier({ prefix, kind: pick(KIND_CODES), serial });
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };
  const out: string[] = [];
  for (let i = 0; i < N; i++) {
    const id = valid();
    const roll = rand();
    if (roll < 0.5) out.push(id);
    else if (roll < 0.7) {
      const at = Math.floor(rand() * id.length);
      out.push(id.slice(0, at) + pick([...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ']) + id.slice(at + 1));
    } else if (roll < 0.8) out.push(id.toLowerCase());
    else if (roll < 0.9) out.push(id.replace(/^CPN\.\d\d/, 'CPN.99'));
    else out.push(` ${id}\t`);
  }
  return out;
}

/**
 * The process CPU time of one pass, not its wall time: on a shared machine a pass descheduled for a while would
 * otherwise count the other work's time as its own (the two sides of the ratio are both single-threaded JS).
 */
function timeIt(fn: () => number): { ms: number; result: number } {
  const c0 = process.cpuUsage();
  const result = fn();
  const c = process.cpuUsage(c0);
  return { ms: (c.user + c.system) / 1000, result };
}

/** Runs the benchmark, prints a table and writes bench/results/identifier.json. */
export function run(): Record<string, number> {
  const ids = corpus();
  const full = (): number => {
    let valid = 0;
    for (let i = 0; i < ids.length; i++) if (parseIdentifier(ids[i]!).ok) valid++;
    return valid;
  };
  // The same, reading each rejection's segment and message: a rejection's words are written when first read, so
  // `full` (which asks only whether each is valid) does not pay for them; this is what a caller that reports pays.
  const explained = (): number => {
    let valid = 0;
    for (let i = 0; i < ids.length; i++) {
      const r = parseIdentifier(ids[i]!);
      if (r.ok) valid++;
      else if (r.error.segment.length + r.error.message.length === 0) valid--;
    }
    return valid;
  };
  const bare = (): number => {
    let valid = 0;
    for (let i = 0; i < ids.length; i++) if (BARE.test(ids[i]!)) valid++;
    return valid;
  };
  explained();
  full();
  bare();
  // Interleaved rounds: each ratio compares two passes taken moments apart, so machine noise hits both sides.
  // `explained` goes first, so that `full` and `bare` follow each other as they did before it was added.
  const runs = [0, 1, 2, 3, 4].map(() => {
    const e = timeIt(explained);
    return { explained: e, full: timeIt(full), bare: timeIt(bare) };
  });
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const fullMs = median(runs.map((r) => r.full.ms));
  const bareMs = median(runs.map((r) => r.bare.ms));
  const ratio = median(runs.map((r) => r.full.ms / r.bare.ms));
  const explainedMs = median(runs.map((r) => r.explained.ms));
  const ratioExplained = median(runs.map((r) => r.explained.ms / r.bare.ms));
  const figures = {
    validations_per_s: Math.round(N / (fullMs / 1000)),
    regex_tests_per_s: Math.round(N / (bareMs / 1000)),
    ratio_to_regex: ratio,
    ratio_to_regex_explained: ratioExplained,
    valid_share: runs[0]!.full.result / N,
  };
  printTable(
    `identifier — ${N.toLocaleString('en-US')} mixed identifiers (median of 5 interleaved rounds after a warm-up)`,
    [
      {
        measure: 'full validation (parse + tables + check)',
        per_s: figures.validations_per_s,
        ns_each: (fullMs * 1e6) / N,
      },
      {
        measure: '… reading each rejection (segment, message)',
        per_s: Math.round(N / (explainedMs / 1000)),
        ns_each: (explainedMs * 1e6) / N,
      },
      { measure: 'bare anchored regex test', per_s: figures.regex_tests_per_s, ns_each: (bareMs * 1e6) / N },
      { measure: 'ratio full / regex (aim ≤ 2)', per_s: figures.ratio_to_regex, ns_each: '' },
      { measure: 'ratio reading rejections / regex', per_s: figures.ratio_to_regex_explained, ns_each: '' },
    ],
  );
  console.log(
    `valid share ${(figures.valid_share * 100).toFixed(1)} % · figures → ${writeFigures('identifier', figures)}`,
  );
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) run();
