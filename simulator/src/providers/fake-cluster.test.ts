import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { ClusterReport } from '@cpnet/protocol';
import { createVirtualClock, type RealTime } from '../clock/virtual-clock.ts';
import type { PlannedCluster } from '../topology/expand.ts';
import { createFakeCluster } from './fake-cluster.ts';

function manualTime() {
  const clock = createFakeClock(0);
  const real: RealTime = {
    monotonicMs: () => clock.now(),
    setTimeout: (fn, ms) => ({ cancel: clock.setTimeout(fn, ms) }),
  };
  return { real, advance: (ms: number) => clock.advance(ms) };
}

const plan: PlannedCluster = {
  key: 'c',
  name: '成都智算集群1',
  province: '51',
  city: '成都',
  resourceClass: '403',
  arch: 'x86_64',
  cpuCores: 100,
  memoryGib: 400,
  accelerators: [{ model: 'Ascend 910B', count: 16, fp16Tflops: 320, fp32Tflops: 80 }],
  pricePerCoreHourYuan: 0.1,
  pricePerCardHourYuan: 10,
  pue: 1.2,
  greenShare: 0.6,
  securityLevel: 3,
};
const demand = { cpuCores: 10, memoryGib: 20, storageGib: 0, bandwidthGbps: 0 };

function setup() {
  const t = manualTime();
  const clock = createVirtualClock({ start: 0, speed: 3600, real: t.real });
  const updates: Array<{ job: string; state: string }> = [];
  const cluster = createFakeCluster({
    id: 'CPN.51.C151/CL-1',
    plan,
    clock,
    random: () => 0.5,
    onUpdate: (u) => updates.push({ job: u.job, state: u.state }),
  });
  return { cluster, updates, advance: t.advance };
}

describe('fake cluster', () => {
  it('runs a job for its duration in virtual time and reports capacity', () => {
    const { cluster, updates, advance } = setup();
    expect(cluster.start({ job: 'j1', attempt: 1, demand, replicas: 2, durationHours: 2 })).toEqual({ accepted: true });
    const report = cluster.report();
    expect(report?.k2.cpuCores).toBe(80);
    expect(ClusterReport.safeParse({ cluster: 'CPN.51/ND-1EJ', ...report }).success).toBe(true);
    advance(1999); // 1.999 real s × 3600 = just under 2 h
    expect(updates).toEqual([{ job: 'j1', state: 'running' }]);
    advance(1);
    expect(updates.at(-1)).toEqual({ job: 'j1', state: 'finished' });
    expect(cluster.report()?.k2.cpuCores).toBe(100);
  });

  it('refuses what does not fit', () => {
    const { cluster } = setup();
    expect(
      cluster.start({ job: 'big', attempt: 1, demand: { ...demand, cpuCores: 60 }, replicas: 2, durationHours: 1 }),
    ).toMatchObject({ accepted: false });
    expect(
      cluster.start({
        job: 'gpu',
        attempt: 1,
        demand: { ...demand, accelerators: { count: 17 } },
        replicas: 1,
        durationHours: 1,
      }),
    ).toMatchObject({ accepted: false });
  });

  it('goes dark when it fails (jobs lost, nothing reported), refuses work, and recovers', () => {
    const { cluster, updates } = setup();
    cluster.start({ job: 'j1', attempt: 1, demand, replicas: 1, durationHours: 1 });
    cluster.fail();
    expect(updates.at(-1)).toEqual({ job: 'j1', state: 'running' });
    expect(cluster.runningJobs).toBe(0);
    expect(cluster.report()).toBeNull();
    expect(cluster.start({ job: 'j2', attempt: 1, demand, replicas: 1, durationHours: 1 })).toMatchObject({
      accepted: false,
    });
    cluster.recover();
    expect(cluster.report()?.k2.cpuCores).toBe(100);
  });

  it('can instead report its jobs failed when it crashes them but stays reachable', () => {
    const { cluster, updates } = setup();
    cluster.start({ job: 'j1', attempt: 1, demand, replicas: 1, durationHours: 1 });
    cluster.fail('oom', { report: true });
    expect(updates.at(-1)).toEqual({ job: 'j1', state: 'failed' });
  });

  it('cancels a running job', () => {
    const { cluster, updates } = setup();
    cluster.start({ job: 'j1', attempt: 1, demand, replicas: 1, durationHours: 1 });
    expect(cluster.cancel('j1')).toBe(true);
    expect(updates.at(-1)).toEqual({ job: 'j1', state: 'cancelled' });
    expect(cluster.cancel('j1')).toBe(false);
  });
});
