import { describe, expect, it } from 'vitest';
import { TaskTemplate } from '@cpnet/protocol';
import { matches, meterRun, observedTime, PROVIDER_TIME_SKEW_MS, totals } from './metering.ts';

const T0 = Date.UTC(2026, 10, 26, 8);
const template = TaskTemplate.parse({
  demand: { cpuCores: 8, memoryGib: 32, accelerators: { model: 'A800', count: 2 } },
  replicas: 2,
  durationHours: 1,
});

describe('metering', () => {
  it('prices resource-hours: cores and cards × hours × 元 per unit-hour', () => {
    const l = meterRun({
      job: 'CPN.51/JB-1EJ',
      tenant: 'acme',
      provider: 'CPN.51/PV-1EJ',
      cluster: 'CPN.51/CL-1EJ',
      template,
      price: { perCoreHourYuan: 0.1, perCardHourYuan: 10 },
      from: T0,
      to: T0 + 30 * 60_000,
    });
    expect(l).toMatchObject({ coreHours: 8, cardHours: 2, amountYuan: 8 * 0.1 + 2 * 10 });
  });

  it('totals per tenant and per provider, counting jobs once', () => {
    const a = meterRun({
      job: 'J1',
      tenant: 'acme',
      provider: 'P1',
      cluster: 'C1',
      template,
      price: { perCoreHourYuan: 1, perCardHourYuan: 0 },
      from: T0,
      to: T0 + 3_600_000,
    });
    const b = { ...a, cluster: 'C2' };
    const c = { ...a, job: 'J2', tenant: 'beta', provider: 'P2' };
    const t = totals([a, b, c]);
    expect(t.byTenant.acme).toEqual({ jobs: 1, coreHours: 32, cardHours: 8, amountYuan: 32 });
    expect(t.byProvider.P2!.jobs).toBe(1);
    expect(matches(a, { tenant: 'beta' })).toBe(false);
    expect(matches(a, { from: new Date(T0 + 7_200_000).toISOString() })).toBe(false);
  });
});

describe('observedTime', () => {
  const seen = { dispatchedAt: 1_000_000, arrivedAt: 2_000_000 };
  it('clips a provider time to the dispatch and the arrival it observed', () => {
    expect(observedTime(1_500_000, seen)).toEqual({ ok: true, value: 1_500_000 });
    expect(observedTime(2_000_000 + 20_000, seen)).toEqual({ ok: true, value: 2_000_000 });
    expect(observedTime(1_000_000 - 20_000, seen)).toEqual({ ok: true, value: 1_000_000 });
  });
  it('refuses a time beyond the skew on either side, or none', () => {
    expect(observedTime(2_000_000 + PROVIDER_TIME_SKEW_MS + 1, seen).ok).toBe(false);
    expect(observedTime(1_000_000 - PROVIDER_TIME_SKEW_MS - 1, seen).ok).toBe(false);
    expect(observedTime(Number.NaN, seen).ok).toBe(false);
  });
});
