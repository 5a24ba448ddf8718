import { ok } from '@cpnet/kernel';
import { PROVINCES } from '@cpnet/identifier';
import { estimateLatencyMs, kgCo2PerItKwh } from './cost.ts';
import type { Arch, Cluster, ClusterLifecycle, Health, Resources } from './model.ts';
import { checkCluster, checkClusters, checkResources, inputError, type Checked } from './validate.ts';

/** Province codes in column order of the latency matrix. */
export const PROVINCE_CODES: readonly string[] = PROVINCES.map((p) => p.code);
const PROVINCE_ROW = new Map(PROVINCE_CODES.map((c, i) => [c, i]));
/** The column of a province in the index, or -1. */
export const provinceRow = (code: string): number => PROVINCE_ROW.get(code) ?? -1;
/**
 * estimateLatencyMs between every two provinces, by column (ESTIMATED[from][to]): computed once, since a cluster's row
 * is rewritten on every gateway report and its 34 haversines were a tenth of a report's cost at the node.
 */
const ESTIMATED: readonly Float64Array[] = PROVINCE_CODES.map((from) =>
  Float64Array.from(PROVINCE_CODES, (to) => estimateLatencyMs(from, to)),
);

export const LIFECYCLES: readonly ClusterLifecycle[] = ['active', 'registered', 'suspended', 'revoked'];
export const HEALTHS: readonly Health[] = ['healthy', 'degraded', 'down'];
export const ARCHS: readonly Arch[] = ['x86_64', 'aarch64', 'loongarch64', 'sw_64'];

/** Per-model accelerator columns. */
export interface ModelColumns {
  cap: Float64Array;
  avail: Float64Array;
  fp16: Float64Array;
  watts: Float64Array;
}

const F = (n: number): Float64Array => new Float64Array(n);
const grow = <T extends Float64Array | Float32Array | Uint8Array>(a: T, n: number): T => {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
};

/**
 * Columnar view of the clusters (structure of arrays, typed), built once and updated in place, so a
 * decision is a tight loop over numbers rather than a walk over objects.
 */
export class ClusterIndex {
  size = 0;
  ids: string[] = [];
  prefixes: string[] = [];
  private readonly rowById = new Map<string, number>();
  private room: number;
  life: Uint8Array;
  health: Uint8Array;
  arch: Uint8Array;
  prov: Uint8Array;
  security: Uint8Array;
  cpuCap: Float64Array;
  cpuAvail: Float64Array;
  memCap: Float64Array;
  memAvail: Float64Array;
  stoCap: Float64Array;
  stoAvail: Float64Array;
  bwCap: Float64Array;
  bwAvail: Float64Array;
  priceCore: Float64Array;
  priceCard: Float64Array;
  pue: Float64Array;
  green: Float64Array;
  carbonIntensity: Float64Array;
  kgPerKwh: Float64Array;
  reliability: Float64Array;
  queueWaitMin: Float64Array;
  /** latency[p][row]: ms from province column p to the cluster. */
  latency: Float32Array[];
  models: string[] = [];
  private readonly modelRow = new Map<string, number>();
  acc: ModelColumns[] = [];

  constructor(expected = 64) {
    const n = (this.room = Math.max(8, expected));
    this.life = new Uint8Array(n);
    this.health = new Uint8Array(n);
    this.arch = new Uint8Array(n);
    this.prov = new Uint8Array(n);
    this.security = new Uint8Array(n);
    this.cpuCap = F(n);
    this.cpuAvail = F(n);
    this.memCap = F(n);
    this.memAvail = F(n);
    this.stoCap = F(n);
    this.stoAvail = F(n);
    this.bwCap = F(n);
    this.bwAvail = F(n);
    this.priceCore = F(n);
    this.priceCard = F(n);
    this.pue = F(n);
    this.green = F(n);
    this.carbonIntensity = F(n);
    this.kgPerKwh = F(n);
    this.reliability = F(n);
    this.queueWaitMin = F(n);
    this.latency = PROVINCE_CODES.map(() => new Float32Array(n));
  }

  /** Builds an index from a cluster list (rows in list order), or names the first field of a cluster that is wrong. */
  static build(clusters: readonly Cluster[]): Checked<ClusterIndex> {
    const checked = checkClusters(clusters);
    if (!checked.ok) return checked;
    const ix = new ClusterIndex(clusters.length);
    for (const c of clusters) ix.write(c);
    return ok(ix);
  }

  /** Row of a cluster id, or -1. */
  rowOf(id: string): number {
    return this.rowById.get(id) ?? -1;
  }

  /** Column of an accelerator model, or -1. */
  modelOf(model: string): number {
    return this.modelRow.get(model) ?? -1;
  }

  /** Adds a cluster or overwrites its row in place (a gateway report); a cluster with a bad field is refused. */
  upsert(c: Cluster): Checked<number> {
    const checked = checkCluster(c);
    return checked.ok ? ok(this.write(c)) : checked;
  }

  private write(c: Cluster): number {
    let r = this.rowOf(c.id);
    if (r < 0) {
      if (this.size === this.room) this.resize(this.room * 2);
      r = this.size++;
      this.ids[r] = c.id;
      this.rowById.set(c.id, r);
    }
    this.prefixes[r] = c.nodePrefix;
    this.life[r] = LIFECYCLES.indexOf(c.lifecycle);
    this.health[r] = HEALTHS.indexOf(c.health);
    this.arch[r] = ARCHS.indexOf(c.arch);
    this.prov[r] = provinceRow(c.provinceCode);
    this.security[r] = c.securityLevel;
    this.cpuCap[r] = c.capacity.cpuCores;
    this.memCap[r] = c.capacity.memoryGib;
    this.stoCap[r] = c.capacity.storageGib;
    this.bwCap[r] = c.capacity.bandwidthGbps;
    this.priceCore[r] = c.pricePerCoreHourYuan;
    this.priceCard[r] = c.pricePerCardHourYuan;
    this.pue[r] = c.pue;
    this.green[r] = c.greenShare;
    this.carbonIntensity[r] = c.carbonIntensity;
    this.kgPerKwh[r] = kgCo2PerItKwh(c);
    this.reliability[r] = c.reliability;
    this.queueWaitMin[r] = c.queueWaitMinutes ?? 0;
    const to = this.prov[r]!;
    for (let i = 0; i < PROVINCE_CODES.length; i++) {
      const p = PROVINCE_CODES[i]!;
      this.latency[i]![r] =
        c.latencyMsTo[p] ?? (to < PROVINCE_CODES.length ? ESTIMATED[i]![to]! : estimateLatencyMs(p, c.provinceCode));
    }
    for (const m of this.acc) {
      m.cap[r] = 0;
      m.avail[r] = 0;
      m.fp16[r] = 0;
      m.watts[r] = 0;
    }
    for (const a of c.capacity.accelerators) {
      const m = this.acc[this.ensureModel(a.model)]!;
      m.cap[r] = (m.cap[r] ?? 0) + a.count;
      m.fp16[r] = a.fp16Tflops;
      m.watts[r] = a.tdpWatts ?? 400;
    }
    this.writeAvailable(r, c.available);
    return r;
  }

  /** Overwrites the K2 (available) vector of a cluster; an unknown id or a bad figure is refused. */
  setAvailable(id: string, k2: Resources): Checked<number> {
    const r = this.rowOf(id);
    if (r < 0) return inputError('clusterId', `unknown cluster ${id}`);
    const checked = checkResources(k2, 'available');
    if (!checked.ok) return checked;
    this.writeAvailable(r, k2);
    return ok(r);
  }

  private writeAvailable(r: number, k2: Resources): void {
    this.cpuAvail[r] = k2.cpuCores;
    this.memAvail[r] = k2.memoryGib;
    this.stoAvail[r] = k2.storageGib;
    this.bwAvail[r] = k2.bandwidthGbps;
    for (const m of this.acc) m.avail[r] = 0;
    for (const a of k2.accelerators) {
      const m = this.acc[this.ensureModel(a.model)]!;
      m.avail[r] = (m.avail[r] ?? 0) + a.count;
    }
  }

  /** Sets the health of a cluster; an unknown id or health is refused. */
  setHealth(id: string, h: Health): Checked<number> {
    const r = this.rowOf(id),
      code = HEALTHS.indexOf(h);
    if (r < 0) return inputError('clusterId', `unknown cluster ${id}`);
    if (code < 0) return inputError('health', `must be one of ${HEALTHS.join(', ')}, got ${String(h)}`);
    this.health[r] = code;
    return ok(r);
  }

  /** Sets the lifecycle of a cluster; an unknown id or lifecycle is refused. */
  setLifecycle(id: string, l: ClusterLifecycle): Checked<number> {
    const r = this.rowOf(id),
      code = LIFECYCLES.indexOf(l);
    if (r < 0) return inputError('clusterId', `unknown cluster ${id}`);
    if (code < 0) return inputError('lifecycle', `must be one of ${LIFECYCLES.join(', ')}, got ${String(l)}`);
    this.life[r] = code;
    return ok(r);
  }

  private ensureModel(model: string): number {
    let m = this.modelRow.get(model);
    if (m === undefined) {
      m = this.models.length;
      this.models.push(model);
      this.modelRow.set(model, m);
      this.acc.push({ cap: F(this.room), avail: F(this.room), fp16: F(this.room), watts: F(this.room) });
    }
    return m;
  }

  private resize(n: number): void {
    this.room = n;
    for (const k of [
      'life',
      'health',
      'arch',
      'prov',
      'security',
      'cpuCap',
      'cpuAvail',
      'memCap',
      'memAvail',
      'stoCap',
      'stoAvail',
      'bwCap',
      'bwAvail',
      'priceCore',
      'priceCard',
      'pue',
      'green',
      'carbonIntensity',
      'kgPerKwh',
      'reliability',
      'queueWaitMin',
    ] as const) {
      (this as Record<typeof k, Float64Array | Uint8Array>)[k] = grow(this[k], n);
    }
    this.latency = this.latency.map((a) => grow(a, n));
    this.acc = this.acc.map((m) => ({
      cap: grow(m.cap, n),
      avail: grow(m.avail, n),
      fp16: grow(m.fp16, n),
      watts: grow(m.watts, n),
    }));
  }
}
