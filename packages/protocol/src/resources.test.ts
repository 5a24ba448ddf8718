import { describe, expect, it } from 'vitest';
import { GatewaySession, MarketQuery, SubtreeSummary, SummaryBatch } from './index.ts';

const vector = { cpuCores: 8, memoryGib: 32, storageGib: 100, bandwidthGbps: 1 };

describe('aggregation messages', () => {
  it('accept a summary naming only the classes and provinces it has, with offers defaulting to none', () => {
    const s = SubtreeSummary.parse({
      node: 'CPN.51',
      at: '2026-11-26T00:00:00.000Z',
      clusters: 1,
      healthy: 1,
      byClass: { 403: { k1: vector, k2: vector, minPricePerCoreHourYuan: 0.1 } },
      byProvince: { 51: { k1: vector, k2: vector, clusters: 1 } },
      byIndustry: {},
    });
    expect(s.offers).toEqual([]);
    expect(
      SubtreeSummary.safeParse({ ...s, byProvince: { 99: { k1: vector, k2: vector, clusters: 1 } } }).success,
    ).toBe(false);
  });

  it('require an idempotency key per summary and refuse unknown fields', () => {
    const summary = {
      node: 'CPN.51',
      at: '2026-11-26T00:00:00.000Z',
      clusters: 0,
      healthy: 0,
      byClass: {},
      byProvince: {},
      byIndustry: {},
    };
    expect(SummaryBatch.safeParse({ items: [{ key: 'k', summary }] }).success).toBe(true);
    expect(SummaryBatch.safeParse({ items: [{ summary }] }).success).toBe(false);
    expect(SummaryBatch.safeParse({ items: [{ key: 'k', summary, extra: 1 }] }).success).toBe(false);
  });

  it('carry the last applied seq in a gateway session and coerce market query numbers', () => {
    expect(
      GatewaySession.safeParse({
        protocol: '1.0',
        gateway: 'CPN.51/ND-1EJ',
        node: 'CPN.51',
        lastReportSeq: -1,
        clusters: [],
        at: '2026-11-26T00:00:00.000Z',
      }).success,
    ).toBe(true);
    expect(MarketQuery.parse({ maxPricePerCoreHourYuan: '0.5' }).maxPricePerCoreHourYuan).toBe(0.5);
    expect(MarketQuery.safeParse({ colour: 'red' }).success).toBe(false);
  });
});
