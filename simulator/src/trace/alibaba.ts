import { seededFaker } from '../topology/fake-org.ts';

/** The columns of Alibaba cluster-trace-gpu-v2023's pod table, in order. */
export const ALIBABA_POD_COLUMNS = [
  'name',
  'cpu_milli',
  'memory_mib',
  'num_gpu',
  'gpu_milli',
  'gpu_spec',
  'qos',
  'pod_phase',
  'creation_time',
  'deletion_time',
  'scheduled_time',
] as const;

/** One job read from a trace. */
export interface TraceJob {
  readonly name: string;
  /** Seconds after the first pod's creation. */
  readonly arrivalS: number;
  readonly durationS: number;
  readonly cpuCores: number;
  readonly memoryGib: number;
  readonly gpus: number;
  readonly gpuModel: string | null;
  /** Best-effort pods tolerate latency (and may go west, 东数西算). */
  readonly latencyTolerant: boolean;
}

const GPU_SPECS = ['', 'V100M16', 'V100M32', 'A10', 'T4', 'P100', 'G2', 'G3'];
const QOS = ['LS', 'BE', 'Burstable', 'Guaranteed'];

/**
 * Generates `pods` rows in the trace's format (the trace itself has no licence file, so its rows are not shipped):
 * CPU and memory skewed small, most pods without GPUs, whole and fractional GPUs, arrivals over `spanS` seconds.
 */
export function generateAlibabaPods(options: { seed: number; pods: number; spanS?: number }): string {
  const faker = seededFaker(options.seed);
  const span = options.spanS ?? 3600;
  const rows: string[] = [ALIBABA_POD_COLUMNS.join(',')];
  const arrivals = Array.from({ length: options.pods }, () => Math.floor(faker.number.float() * span)).sort(
    (a, b) => a - b,
  );
  for (let i = 0; i < options.pods; i++) {
    const gpuRoll = faker.number.float();
    const numGpu = gpuRoll < 0.55 ? 0 : gpuRoll < 0.85 ? 1 : faker.helpers.arrayElement([2, 4, 8]);
    const gpuMilli =
      numGpu === 1 && faker.number.float() < 0.4 ? faker.helpers.arrayElement([250, 500, 750]) : numGpu > 0 ? 1000 : 0;
    const cpuMilli = faker.helpers.arrayElement([500, 1000, 2000, 4000, 8000, 16000, 32000]);
    const created = arrivals[i]!;
    const scheduled = created + faker.number.int({ min: 0, max: 30 });
    const runFor = Math.round(60 * Math.exp(faker.number.float({ min: 0, max: 5 })));
    rows.push(
      [
        `openb-pod-${String(i).padStart(5, '0')}`,
        cpuMilli,
        ((cpuMilli * faker.helpers.arrayElement([2, 4, 8])) / 1000) * 1024,
        numGpu,
        gpuMilli,
        numGpu > 0 ? faker.helpers.arrayElement(GPU_SPECS.slice(1)) : '',
        faker.helpers.arrayElement(QOS),
        faker.helpers.weightedArrayElement([
          { weight: 8, value: 'Succeeded' },
          { weight: 1, value: 'Running' },
          { weight: 1, value: 'Failed' },
        ]),
        created,
        scheduled + runFor,
        scheduled,
      ].join(','),
    );
  }
  return `${rows.join('\n')}\n`;
}

/** Parses the pod table into jobs; an error names the line and column. */
export function parseAlibabaPods(csv: string): { ok: true; jobs: TraceJob[] } | { ok: false; error: string } {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  const head = lines[0]?.split(',').map((h) => h.trim());
  if (!head || ALIBABA_POD_COLUMNS.some((c, i) => head[i] !== c)) {
    return { ok: false, error: `line 1: expected the header ${ALIBABA_POD_COLUMNS.join(',')}` };
  }
  const jobs: TraceJob[] = [];
  let first: number | null = null;
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.split(',');
    if (f.length !== ALIBABA_POD_COLUMNS.length)
      return { ok: false, error: `line ${i + 1}: ${f.length} columns; expected ${ALIBABA_POD_COLUMNS.length}` };
    const num = (col: (typeof ALIBABA_POD_COLUMNS)[number]): number => {
      const v = Number(f[ALIBABA_POD_COLUMNS.indexOf(col)]);
      if (!Number.isFinite(v) || v < 0)
        throw new RangeError(
          `line ${i + 1}: ${col} "${f[ALIBABA_POD_COLUMNS.indexOf(col)]}" is not a non-negative number`,
        );
      return v;
    };
    try {
      const created = num('creation_time');
      const scheduled = num('scheduled_time');
      const deleted = num('deletion_time');
      first ??= created;
      const gpus = num('num_gpu');
      jobs.push({
        name: f[0]!,
        arrivalS: created - first,
        durationS: Math.max(1, deleted - Math.max(scheduled, created)),
        cpuCores: num('cpu_milli') / 1000,
        memoryGib: num('memory_mib') / 1024,
        gpus: gpus === 0 && num('gpu_milli') > 0 ? 1 : gpus,
        gpuModel: f[5] ? f[5] : null,
        latencyTolerant: f[6] === 'BE',
      });
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }
  return { ok: true, jobs };
}
