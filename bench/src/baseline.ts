// The committed benchmark baseline (bench/baseline.json) and the README tables generated from it. Pure: the caller
// reads and writes files. `npm run bench -- baseline` checks the READMEs against the baseline; `--write` rewrites
// their tables; `--record identifier,node,…` first copies bench/results/<name>.json into the baseline with the
// commit, time, machine and load it was measured at.

/** One benchmark's recorded figures and where they were measured. */
export interface BaselineEntry {
  /** Short commit hash the figures were measured at; `+` when the work tree had uncommitted changes. */
  readonly commit: string;
  /** ISO time (UTC) the figures were recorded. */
  readonly measuredAt: string;
  /** CPUs, memory and Node version of the machine. */
  readonly machine: string;
  /** One-minute load average when the figures were recorded. */
  readonly loadAverage: number;
  /** True when other work was running on the machine (load average ≥ 1, or said so with CPNET_BENCH_LOADED=1). */
  readonly loaded: boolean;
  /** How the run was invoked (environment that changes what is measured, e.g. CPNET_SCALE). */
  readonly command: string;
  readonly figures: Readonly<Record<string, number>>;
}

export interface Baseline {
  readonly note: string;
  readonly benches: Readonly<Record<string, BaselineEntry>>;
}

interface Aim {
  readonly figure: string;
  /** `≤ x` / `≥ x` / `= x`, or null when the figure has no aim (context only). */
  readonly aim: { readonly op: '≤' | '≥' | '='; readonly value: number } | null;
  readonly unit?: string;
  /**
   * The aim is about the full-size run (the whole scale scenario; 1,000,000 records): a scaled-down run shows the
   * figure but is not judged against it.
   */
  readonly fullScale?: true;
}

const le = (value: number) => ({ op: '≤' as const, value });
const ge = (value: number) => ({ op: '≥' as const, value });

/** The figures shown in the README tables, in order, with their aims (issue 26 and bench/README.md). */
export const SHOWN: Readonly<Record<string, readonly Aim[]>> = {
  identifier: [
    { figure: 'validations_per_s', aim: ge(100_000), unit: '/s' },
    { figure: 'ratio_to_regex', aim: le(2) },
  ],
  security: [
    { figure: 'sign_verify_ratio_to_crypto', aim: ge(0.8) },
    { figure: 'policy_p99_ms', aim: le(0.5), unit: ' ms' },
    { figure: 'audit_append_per_s', aim: ge(1000), unit: '/s' },
    { figure: 'audit_proof_ms_1m', aim: le(1), unit: ' ms' },
  ],
  node: [
    { figure: 'register_per_s', aim: ge(2000), unit: '/s' },
    { figure: 'register_cpu_ms_per_op', aim: null, unit: ' ms' },
    { figure: 'register_per_s_one_process', aim: null, unit: '/s' },
    { figure: 'resolve_3hop_p50_ms', aim: null, unit: ' ms' },
    { figure: 'resolve_3hop_p99_ms', aim: le(5), unit: ' ms' },
    { figure: 'sign_verify_ratio_to_crypto', aim: ge(0.8) },
    { figure: 'resolve_ratio_to_express', aim: ge(0.6) },
    { figure: 'records_loaded', aim: null },
    { figure: 'rss_mib_1m_records', aim: le(1024), unit: ' MiB', fullScale: true },
  ],
  simulator: [
    { figure: 'scale', aim: null },
    { figure: 'job_scale', aim: null },
    { figure: 'nodes', aim: null },
    { figure: 'clusters', aim: null },
    { figure: 'jobs_submitted', aim: null },
    { figure: 'wall_s', aim: le(240), unit: ' s', fullScale: true },
    { figure: 'cpu_ms_per_job', aim: le(2), unit: ' ms', fullScale: true },
    { figure: 'cpu_ms_per_job_nodes', aim: null, unit: ' ms' },
    { figure: 'cpu_ms_per_job_simulator', aim: null, unit: ' ms' },
    { figure: 'cpu_ms_per_job_other', aim: null, unit: ' ms' },
    { figure: 'threads_busy_share', aim: null },
    { figure: 'thread_0_busy_share', aim: null },
    { figure: 'thread_1_busy_share', aim: null },
    { figure: 'gc_share', aim: null },
    { figure: 'peak_rss_mib', aim: le(2048), unit: ' MiB', fullScale: true },
    { figure: 'submit_p50_ms', aim: null, unit: ' ms' },
    { figure: 'submit_p99_ms', aim: null, unit: ' ms' },
    { figure: 'jobs_lost', aim: { op: '=', value: 0 } },
    { figure: 'max_speed_passing', aim: ge(30) },
  ],
};

export const START =
  '<!-- bench:baseline:start (generated from bench/baseline.json by `npm run bench -- baseline --write`; do not edit) -->';
export const END = '<!-- bench:baseline:end -->';

/** A figure as the tables print it: integers grouped, others to 3 significant digits (at least 2 decimals below 1). */
export function formatFigure(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function met(value: number, aim: NonNullable<Aim['aim']>): boolean {
  return aim.op === '≤' ? value <= aim.value : aim.op === '≥' ? value >= aim.value : value === aim.value;
}

const WORDS = {
  en: {
    head: '| bench | figure | measured | aim | met |',
    fullScale: 'at full size',
    yes: 'yes',
    no: '**no**',
    none: '—',
    absent: 'not recorded',
    where: (name: string, e: BaselineEntry) =>
      `- ${name}: ${e.measuredAt.slice(0, 16).replace('T', ' ')} UTC at commit ${e.commit}, \`${e.command}\`, ` +
      `${e.machine}, load average ${e.loadAverage.toFixed(1)} — ` +
      (e.loaded
        ? '**loaded** (other work was running: absolute figures are low; ratios were measured side by side)'
        : 'quiet'),
  },
  zh: {
    head: '| 基准 | 指标 | 实测 | 目标 | 达到 |',
    fullScale: '（完整规模时）',
    yes: '是',
    no: '**否**',
    none: '—',
    absent: '未记录',
    where: (name: string, e: BaselineEntry) =>
      `- ${name}：${e.measuredAt.slice(0, 16).replace('T', ' ')} UTC，提交 ${e.commit}，\`${e.command}\`，` +
      `${e.machine}，负载 ${e.loadAverage.toFixed(1)}——${e.loaded ? '**有负载**（机器上另有其他工作：绝对数值偏低；比值为同一次运行中并排测量）' : '空闲'}`,
  },
};

/** The README table (between START and END, markers included) for a baseline. */
export function renderTable(baseline: Baseline, lang: 'en' | 'zh'): string {
  const w = WORDS[lang];
  const rows: string[] = [w.head, '| --- | --- | --- | --- | --- |'];
  for (const [name, shown] of Object.entries(SHOWN)) {
    const entry = baseline.benches[name];
    if (!entry) continue;
    const f = entry.figures;
    const scaled = (f['scale'] ?? 1) < 1 || (f['job_scale'] ?? 1) < 1 || (f['records_loaded'] ?? 1e6) < 1e6;
    for (const { figure, aim, unit = '', fullScale } of shown) {
      const v = entry.figures[figure];
      const judged = aim !== null && !(fullScale && scaled);
      const aimValue = aim?.value.toLocaleString('en-US', { maximumFractionDigits: 3 });
      const aimText = aim ? `${aim.op} ${aimValue}${unit}${judged ? '' : ` ${w.fullScale}`}` : w.none;
      const value = v === undefined ? w.absent : `${formatFigure(v)}${unit}`;
      const ok = judged && v !== undefined ? (met(v, aim) ? w.yes : w.no) : w.none;
      rows.push(`| ${name} | \`${figure}\` | ${value} | ${aimText} | ${ok} |`);
    }
  }
  const where = Object.keys(SHOWN)
    .filter((n) => baseline.benches[n])
    .map((n) => w.where(n, baseline.benches[n]!));
  return [START, '', ...rows, '', ...where, '', END].join('\n');
}

/** `text` with the part between the markers replaced by `table`; throws when the markers are missing. */
export function replaceTable(text: string, table: string): string {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`markers ${START} … ${END} not found`);
  return text.slice(0, a) + table + text.slice(b + END.length);
}

/** The table currently between the markers of `text` (markers included), or null. */
export function currentTable(text: string): string | null {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  return a < 0 || b < a ? null : text.slice(a, b + END.length);
}

/** Validates a parsed baseline.json, naming the first bad field. */
export function checkBaseline(value: unknown): Baseline {
  const fail = (field: string): never => {
    throw new Error(`bench/baseline.json: ${field} is missing or malformed`);
  };
  if (typeof value !== 'object' || value === null) return fail('the document');
  const v = value as Record<string, unknown>;
  if (typeof v.note !== 'string') fail('note');
  if (typeof v.benches !== 'object' || v.benches === null) fail('benches');
  for (const [name, e] of Object.entries(v.benches as Record<string, Record<string, unknown>>)) {
    for (const k of ['commit', 'measuredAt', 'machine', 'command'] as const)
      if (typeof e[k] !== 'string') fail(`benches.${name}.${k}`);
    if (typeof e.loadAverage !== 'number') fail(`benches.${name}.loadAverage`);
    if (typeof e.loaded !== 'boolean') fail(`benches.${name}.loaded`);
    if (typeof e.figures !== 'object' || e.figures === null) fail(`benches.${name}.figures`);
    for (const [f, n] of Object.entries(e.figures as Record<string, unknown>))
      if (typeof n !== 'number') fail(`benches.${name}.figures.${f}`);
  }
  return value as Baseline;
}
