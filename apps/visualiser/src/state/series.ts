import { provinceStats } from './aggregate.ts';
import { stateFromSnapshot } from './apply.ts';
import type { Recording, TimedEvent, ViewState } from './types.ts';

/** One sample of the network's figures at a virtual time. */
export interface Sample {
  readonly t: number;
  readonly jobsByState: Readonly<Record<string, number>>;
  readonly p50: number | null;
  readonly p99: number | null;
  /** Per province: core-weighted mean utilisation (0–1) and price (元/核时). */
  readonly provinces: Readonly<Record<string, { utilisation: number; price: number }>>;
}

/** Time series over a run: samples of the state, at most one per `everyMs` of virtual time. */
export interface Series {
  readonly everyMs: number;
  readonly samples: Sample[];
}

/** A sample of the state as it is now. */
export function sampleOf(state: ViewState): Sample {
  const provinces: Record<string, { utilisation: number; price: number }> = {};
  for (const [code, s] of provinceStats(state))
    if (s.clusters > 0) provinces[code] = { utilisation: s.meanUtilisation, price: s.meanPrice };
  return {
    t: state.t,
    jobsByState: { ...state.counters.jobsByState },
    p50: state.counters.schedulingP50Ms,
    p99: state.counters.schedulingP99Ms,
    provinces,
  };
}

/** An empty series sampled every `everyMs` of virtual time (live mode adds as the state changes). */
export function createSeries(everyMs: number): Series {
  return { everyMs, samples: [] };
}

/** Adds a sample of `state` when it is `everyMs` past the last one (or earlier than it: a new session). */
export function addSample(series: Series, state: ViewState): boolean {
  const last = series.samples.at(-1);
  if (last && state.t >= last.t && state.t - last.t < series.everyMs) return false;
  if (last && state.t < last.t) series.samples.length = 0;
  series.samples.push(sampleOf(state));
  return true;
}

/** The series of a whole recording: one sample per snapshot (the figures nodes send are in the snapshots). */
export function recordingSeries(rec: Recording): Series {
  const samples = rec.snapshots.map((s) => sampleOf(stateFromSnapshot(s.state, s.t)));
  const gaps = samples.slice(1).map((s, i) => s.t - samples[i]!.t);
  return { everyMs: gaps.length ? Math.min(...gaps) : 10_000, samples };
}

/** Security alerts per kind (`data.kind`; threats and benign apart) in `buckets` equal slices of [from, to]. */
export function alertsByKind(
  events: readonly TimedEvent[],
  options: { from: number; to: number; buckets: number },
): { t: number; counts: Record<string, number> }[] {
  const width = Math.max(1, (options.to - options.from) / options.buckets);
  const out = Array.from({ length: options.buckets }, (_, i) => ({
    t: options.from + i * width,
    counts: {} as Record<string, number>,
  }));
  for (const { t, event } of events) {
    if (event.type !== 'security.alert' || t < options.from || t > options.to) continue;
    const kind = typeof event.data.kind === 'string' ? event.data.kind : 'other';
    const b = out[Math.min(options.buckets - 1, Math.floor((t - options.from) / width))]!;
    b.counts[kind] = (b.counts[kind] ?? 0) + 1;
  }
  return out;
}

/** CSV text (RFC 4180: quoted when needed, CRLF) of a header and rows. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const cell = (v: string | number | null) => {
    const s = v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** The four tables the trends view draws and exports: jobs by state, scheduling, provinces, alerts by kind. */
export function seriesTables(
  series: Series,
  events: readonly TimedEvent[],
  options: { to: number; buckets: number },
): Record<'jobs' | 'scheduling' | 'provinces' | 'alerts', { header: string[]; rows: (string | number | null)[][] }> {
  const s = series.samples;
  const states = [...new Set(s.flatMap((x) => Object.keys(x.jobsByState)))].sort();
  const provinces = [...new Set(s.flatMap((x) => Object.keys(x.provinces)))].sort();
  const from = Math.min(0, s[0]?.t ?? 0, events[0]?.t ?? 0);
  const alerts = alertsByKind(events, { from, to: Math.max(from + 1, options.to), buckets: options.buckets });
  const kinds = [...new Set(alerts.flatMap((a) => Object.keys(a.counts)))].sort();
  return {
    jobs: { header: ['t_ms', ...states], rows: s.map((x) => [x.t, ...states.map((k) => x.jobsByState[k] ?? 0)]) },
    scheduling: { header: ['t_ms', 'p50_ms', 'p99_ms'], rows: s.map((x) => [x.t, x.p50, x.p99]) },
    provinces: {
      header: ['t_ms', 'province', 'utilisation', 'price_yuan_per_core_hour'],
      rows: s.flatMap((x) =>
        provinces
          .filter((p) => x.provinces[p])
          .map((p) => [x.t, p, round(x.provinces[p]!.utilisation, 4), round(x.provinces[p]!.price, 4)]),
      ),
    },
    alerts: {
      header: ['t_ms', ...kinds],
      rows: alerts.map((a) => [Math.round(a.t), ...kinds.map((k) => a.counts[k] ?? 0)]),
    },
  };
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));
