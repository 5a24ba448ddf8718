import { err, ok, type Result } from '@cpnet/kernel';
import { PROVINCES } from '@cpnet/identifier';
import type { Cluster, Criterion, Resources, SubtreeView, Task } from './model.ts';

/**
 * Why an input was refused: the field (a path such as `task.demand.cpuCores`) and what was expected. `code` is the
 * protocol's SCHEMA_VIOLATION, so a node can answer 400 with it as it is.
 */
export interface InputError {
  readonly code: 'SCHEMA_VIOLATION';
  readonly field: string;
  readonly message: string;
}

/** A value or the reason it was refused. */
export type Checked<T> = Result<T, InputError>;

const KNOWN_PROVINCES = new Set(PROVINCES.map((p) => p.code));
const ARCHS = new Set(['x86_64', 'aarch64', 'loongarch64', 'sw_64']);
const HEALTHS = new Set(['healthy', 'degraded', 'down']);
const LIFECYCLES = new Set(['registered', 'active', 'suspended', 'revoked']);
const MODES = new Set(['single', 'split', 'gang']);
const OBJECTIVES = new Set(['cost', 'latency', 'green', 'balanced']);
const CRITERION_NAMES = new Set<string>(['cost', 'latency', 'carbon', 'reliability', 'headroom']);

/** Whether a code is a GB/T 2260 province-level code of the identifier's table. */
export const isProvinceCode = (code: unknown): code is string => typeof code === 'string' && KNOWN_PROVINCES.has(code);

/** An InputError for `field`. */
export const inputError = (field: string, message: string): { ok: false; error: InputError } =>
  err({ code: 'SCHEMA_VIOLATION', field, message: `${field}: ${message}` });

// Checks return the error (or null) so that a validator is a chain of `??`.
type Fail = { ok: false; error: InputError } | null;
const show = (x: unknown): string => (typeof x === 'number' ? String(x) : (JSON.stringify(x) ?? String(x)));

/** A finite number ≥ min (≤ max when given). */
function num(x: unknown, field: string, range: { min?: number; max?: number; integer?: boolean } = {}): Fail {
  const { min = 0, max = Infinity, integer = false } = range;
  if (typeof x !== 'number' || !Number.isFinite(x)) return inputError(field, `must be a finite number, got ${show(x)}`);
  if (integer && !Number.isInteger(x)) return inputError(field, `must be a whole number, got ${x}`);
  if (x < min || x > max)
    return inputError(field, `must be ${max < Infinity ? `between ${min} and ${max}` : `≥ ${min}`}, got ${x}`);
  return null;
}
const optNum = (x: unknown, field: string, range?: Parameters<typeof num>[2]): Fail =>
  x === undefined ? null : num(x, field, range);
const oneOf = (x: unknown, set: Set<string>, field: string): Fail =>
  typeof x === 'string' && set.has(x)
    ? null
    : inputError(field, `must be one of ${[...set].join(', ')}, got ${show(x)}`);
const province = (x: unknown, field: string): Fail =>
  isProvinceCode(x) ? null : inputError(field, `must be a GB/T 2260 province code (11, 51, 81 …), got ${show(x)}`);
const text = (x: unknown, field: string): Fail =>
  typeof x === 'string' && x.length > 0 ? null : inputError(field, `must be a non-empty string, got ${show(x)}`);

function resources(r: Resources | undefined, at: string): Fail {
  if (typeof r !== 'object' || r === null) return inputError(at, 'must be a resource vector');
  const first =
    num(r.cpuCores, `${at}.cpuCores`) ??
    num(r.memoryGib, `${at}.memoryGib`) ??
    num(r.storageGib, `${at}.storageGib`) ??
    num(r.bandwidthGbps, `${at}.bandwidthGbps`);
  if (first) return first;
  if (!Array.isArray(r.accelerators)) return inputError(`${at}.accelerators`, 'must be an array');
  for (let i = 0; i < r.accelerators.length; i++) {
    const a = r.accelerators[i]!,
      f = `${at}.accelerators[${i}]`;
    const e =
      text(a.model, `${f}.model`) ??
      num(a.count, `${f}.count`, { integer: true }) ??
      num(a.fp16Tflops, `${f}.fp16Tflops`) ??
      num(a.fp32Tflops, `${f}.fp32Tflops`) ??
      optNum(a.tdpWatts, `${f}.tdpWatts`);
    if (e) return e;
  }
  return null;
}

/** Checks a resource vector (K1 or K2): every figure finite and ≥ 0, whole card counts. */
export function checkResources(r: Resources, at: string): Checked<Resources> {
  return resources(r, at) ?? ok(r);
}

/** Checks a cluster: known province and codes, every figure finite and in range. `at` prefixes the field names. */
export function checkCluster(c: Cluster, at = ''): Checked<Cluster> {
  const p = at === '' ? '' : `${at}.`;
  if (typeof c !== 'object' || c === null) return inputError(at || 'cluster', 'must be a cluster object');
  const e =
    text(c.id, `${p}id`) ??
    (typeof c.nodePrefix === 'string' ? null : inputError(`${p}nodePrefix`, 'must be a string')) ??
    province(c.provinceCode, `${p}provinceCode`) ??
    oneOf(c.arch, ARCHS, `${p}arch`) ??
    resources(c.capacity, `${p}capacity`) ??
    resources(c.available, `${p}available`) ??
    num(c.pricePerCoreHourYuan, `${p}pricePerCoreHourYuan`) ??
    num(c.pricePerCardHourYuan, `${p}pricePerCardHourYuan`) ??
    num(c.pue, `${p}pue`) ??
    num(c.greenShare, `${p}greenShare`, { max: 1 }) ??
    num(c.carbonIntensity, `${p}carbonIntensity`) ??
    num(c.reliability, `${p}reliability`, { max: 1 }) ??
    num(c.securityLevel, `${p}securityLevel`) ??
    oneOf(c.lifecycle, LIFECYCLES, `${p}lifecycle`) ??
    oneOf(c.health, HEALTHS, `${p}health`) ??
    optNum(c.queueWaitMinutes, `${p}queueWaitMinutes`);
  if (e) return e;
  if (typeof c.latencyMsTo !== 'object' || c.latencyMsTo === null)
    return inputError(`${p}latencyMsTo`, 'must be an object of province → ms');
  for (const [k, v] of Object.entries(c.latencyMsTo)) {
    const le = province(k, `${p}latencyMsTo.${k}`) ?? num(v, `${p}latencyMsTo.${k}`);
    if (le) return le;
  }
  return ok(c);
}

/** Checks a task: finite non-negative figures, whole replica and card counts, known provinces, codes and objective. */
export function checkTask(t: Task, at = 'task'): Checked<Task> {
  if (typeof t !== 'object' || t === null) return inputError(at, 'must be a task object');
  const d = t.demand;
  if (typeof d !== 'object' || d === null) return inputError(`${at}.demand`, 'must be a demand object');
  const a = d.accelerator;
  const e =
    text(t.id, `${at}.id`) ??
    (typeof t.tenant === 'string' ? null : inputError(`${at}.tenant`, 'must be a string')) ??
    num(t.priority, `${at}.priority`, { min: -Number.MAX_VALUE }) ??
    num(d.cpuCores, `${at}.demand.cpuCores`) ??
    num(d.memoryGib, `${at}.demand.memoryGib`) ??
    optNum(d.storageGib, `${at}.demand.storageGib`) ??
    optNum(d.bandwidthGbps, `${at}.demand.bandwidthGbps`) ??
    (a === undefined
      ? null
      : (num(a.count, `${at}.demand.accelerator.count`, { integer: true }) ??
        (a.model === undefined ? null : text(a.model, `${at}.demand.accelerator.model`)) ??
        optNum(a.minFp16Tflops, `${at}.demand.accelerator.minFp16Tflops`))) ??
    num(t.replicas, `${at}.replicas`, { min: 1, integer: true }) ??
    num(t.durationHours, `${at}.durationHours`) ??
    optNum(t.latencyTargetMs, `${at}.latencyTargetMs`) ??
    (t.mode === undefined ? null : oneOf(t.mode, MODES, `${at}.mode`)) ??
    objective(t.objective, `${at}.objective`) ??
    constraints(t, at) ??
    data(t, at) ??
    placement(t, at);
  return e ?? ok(t);
}

function objective(o: Task['objective'], at: string): Fail {
  if (o === undefined) return null;
  if (typeof o === 'string') return oneOf(o, OBJECTIVES, at);
  if (typeof o !== 'object' || o === null) return inputError(at, 'must be a preset name or a weights object');
  for (const [k, v] of Object.entries(o)) {
    if (!CRITERION_NAMES.has(k))
      return inputError(`${at}.${k}`, `is not a criterion (${[...CRITERION_NAMES].join(', ')})`);
    const e = num(v, `${at}.${k as Criterion}`);
    if (e) return e;
  }
  return null;
}

function constraints(t: Task, at: string): Fail {
  const c = t.constraints;
  if (c === undefined) return null;
  const p = `${at}.constraints`;
  const e =
    (c.arch === undefined ? null : oneOf(c.arch, ARCHS, `${p}.arch`)) ??
    optNum(c.minSecurityLevel, `${p}.minSecurityLevel`) ??
    (c.userProvince === undefined ? null : province(c.userProvince, `${p}.userProvince`)) ??
    optNum(c.maxLatencyMs, `${p}.maxLatencyMs`) ??
    optNum(c.maxPricePerHourYuan, `${p}.maxPricePerHourYuan`) ??
    optNum(c.deadline, `${p}.deadline`, { min: -Number.MAX_VALUE });
  if (e) return e;
  const list = c.residency?.provinces;
  if (list !== undefined) {
    if (!Array.isArray(list)) return inputError(`${p}.residency.provinces`, 'must be an array of province codes');
    for (let i = 0; i < list.length; i++) {
      const pe = province(list[i], `${p}.residency.provinces[${i}]`);
      if (pe) return pe;
    }
  }
  return null;
}

function data(t: Task, at: string): Fail {
  const d = t.data;
  if (d === undefined) return null;
  const p = `${at}.data`;
  if (typeof d !== 'object' || d === null) return inputError(p, 'must be { inputGib, province, outputGib? }');
  return (
    num(d.inputGib, `${p}.inputGib`) ??
    province(d.province, `${p}.province`) ??
    optNum(d.outputGib, `${p}.outputGib`) ??
    (d.outputProvince === undefined ? null : province(d.outputProvince, `${p}.outputProvince`))
  );
}

const SPREAD_BY = new Set(['province', 'provider']);

function placement(t: Task, at: string): Fail {
  const pc = t.placement;
  if (pc === undefined) return null;
  const p = `${at}.placement`;
  if (typeof pc !== 'object' || pc === null) return inputError(p, 'must be an object');
  const e = optNum(pc.maxInterReplicaLatencyMs, `${p}.maxInterReplicaLatencyMs`);
  if (e) return e;
  for (const [i, s] of (pc.spread ?? []).entries()) {
    const f = `${p}.spread[${i}]`;
    const se =
      oneOf(s?.by, SPREAD_BY, `${f}.by`) ??
      optNum(s.min, `${f}.min`, { min: 1, integer: true }) ??
      optNum(s.max, `${f}.max`, { min: 1, integer: true }) ??
      (s.min !== undefined && s.max !== undefined && s.min > s.max
        ? inputError(`${f}.min`, `must be ≤ max (${s.max}), got ${s.min}`)
        : null) ??
      (s.min !== undefined && s.min > t.replicas
        ? inputError(`${f}.min`, `must be ≤ replicas (${t.replicas}), got ${s.min}`)
        : null);
    if (se) return se;
  }
  for (const [i, g] of (pc.affinityGroups ?? []).entries()) {
    const f = `${p}.affinityGroups[${i}].provinces`;
    if (!Array.isArray(g?.provinces) || g.provinces.length === 0)
      return inputError(f, 'must be a non-empty array of province codes');
    for (const [j, code] of g.provinces.entries()) {
      const pe = province(code, `${f}[${j}]`);
      if (pe) return pe;
    }
  }
  return null;
}

/** Checks a list of clusters, naming the first bad one as `clusters[i]`. */
export function checkClusters(cs: readonly Cluster[], at = 'clusters'): Checked<readonly Cluster[]> {
  if (!Array.isArray(cs)) return inputError(at, 'must be an array of clusters');
  for (let i = 0; i < cs.length; i++) {
    const r = checkCluster(cs[i]!, `${at}[${i}]`);
    if (!r.ok) return r;
  }
  return ok(cs);
}

/** Checks a list of tasks, naming the first bad one as `tasks[i]`. */
export function checkTasks(ts: readonly Task[], at = 'tasks'): Checked<readonly Task[]> {
  if (!Array.isArray(ts)) return inputError(at, 'must be an array of tasks');
  for (let i = 0; i < ts.length; i++) {
    const r = checkTask(ts[i]!, `${at}[${i}]`);
    if (!r.ok) return r;
  }
  return ok(ts);
}

/**
 * Checks a child's summary. Prices and latencies may be +Infinity (nothing reported: that child can never win on
 * them); NaN and negatives are refused.
 */
export function checkSubtree(s: SubtreeView, at: string): Fail {
  if (typeof s !== 'object' || s === null) return inputError(at, 'must be a subtree summary');
  const upTo = { max: Infinity };
  const finiteOrInf = (x: unknown, f: string): Fail => (x === Infinity ? null : num(x, f, upTo));
  const e =
    text(s.prefix, `${at}.prefix`) ??
    num(s.clusters, `${at}.clusters`, { integer: true }) ??
    num(s.available?.cpuCores, `${at}.available.cpuCores`) ??
    num(s.available?.memoryGib, `${at}.available.memoryGib`) ??
    num(s.largest?.cpuCores, `${at}.largest.cpuCores`) ??
    num(s.largest?.memoryGib, `${at}.largest.memoryGib`) ??
    finiteOrInf(s.minPricePerCoreHourYuan, `${at}.minPricePerCoreHourYuan`) ??
    finiteOrInf(s.minPricePerCardHourYuan, `${at}.minPricePerCardHourYuan`) ??
    num(s.kgCo2PerItKwh, `${at}.kgCo2PerItKwh`) ??
    num(s.maxSecurityLevel, `${at}.maxSecurityLevel`) ??
    num(s.meanReliability, `${at}.meanReliability`, { max: 1 }) ??
    oneOf(s.health, HEALTHS, `${at}.health`);
  if (e) return e;
  for (const [i, p] of (s.provinces ?? []).entries()) {
    const pe = province(p, `${at}.provinces[${i}]`);
    if (pe) return pe;
  }
  for (const [k, v] of Object.entries(s.available.cards ?? {})) {
    const ce = num(v, `${at}.available.cards.${k}`);
    if (ce) return ce;
  }
  for (const [k, v] of Object.entries(s.largest.cards ?? {})) {
    const ce = num(v, `${at}.largest.cards.${k}`);
    if (ce) return ce;
  }
  for (const [k, v] of Object.entries(s.minLatencyMsTo ?? {})) {
    const le = province(k, `${at}.minLatencyMsTo.${k}`) ?? finiteOrInf(v, `${at}.minLatencyMsTo.${k}`);
    if (le) return le;
  }
  return null;
}
