import { describe, expect, it } from 'vitest';
import { IDENTIFIER_PATTERN, PREFIX_PATTERN } from '@cpnet/identifier';
import {
  MAX_VALUE_BYTES,
  valueBoundsProblem,
  Application,
  checkProtocolVersion,
  hasCapability,
  codeForStatus,
  CapacityReport,
  ERROR_CODES,
  Identifier,
  IndustryCode,
  jsonSchemas,
  Prefix,
  RegisterIdentifier,
  RegisterProvider,
  residencyVerdict,
  SchedulingFigures,
  SchedulingSummary,
  schedulingFiguresOf,
  SubtreeSummary,
  summaryCeilingOf,
  TaskTemplate,
  validate,
} from './index.ts';

const goodApplication = {
  role: 'regional',
  region: '51',
  name: '四川省算力互联互通区域节点',
  builder: {
    name: '四川算力建设有限公司',
    creditCode: '914403001922038216',
    registeredCapitalWanYuan: 8000,
    fundingCapacityDeclared: true,
  },
  operator: { name: '四川算力运营有限公司', creditCode: '914403001922038216', telecomLicence: 'B1-20260001' },
  credit: { records: [] },
  site: { province: '51', city: '成都', address: '天府新区' },
  endpoint: 'https://cpn51.example.cn',
  publicKey: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----',
  contact: { name: '张三', phone: '028-12345678', email: 'ops@example.cn' },
};

describe('strict messages', () => {
  it('accepts a good application and defaults the optional parts', () => {
    const r = validate(Application, goodApplication);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.industry).toBeNull();
  });

  it('rejects an unknown field, naming it', () => {
    const r = validate(Application, { ...goodApplication, colour: 'red' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.error.code).toBe('SCHEMA_VIOLATION');
      expect(r.error.error.field).toBe('colour');
    }
  });

  it('ignores anything inside ext', () => {
    expect(validate(Application, { ...goodApplication, ext: { colour: 'red', nested: { a: 1 } } }).ok).toBe(true);
  });

  it('names a nested field and what was wrong', () => {
    const r = validate(Application, {
      ...goodApplication,
      builder: { ...goodApplication.builder, creditCode: '914403001922038217' },
    });
    expect(!r.ok && r.error.error.field).toBe('builder.creditCode');
    expect(!r.ok && r.error.error.message).toContain('check character');
  });

  it('requires an industry for an industry node', () => {
    const r = validate(Application, { ...goodApplication, role: 'industry' });
    expect(!r.ok && r.error.error.field).toBe('industry');
  });
});

describe('identifiers in messages', () => {
  it('canonicalises', () => {
    expect(Identifier.parse(' cpn.51/nd-1ej')).toBe('CPN.51/ND-1EJ');
  });

  it('names the failing segment', () => {
    const r = Identifier.safeParse('CPN.51/ND-1EK');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/^check: .*expected "EJ"/);
  });

  it('refuses duplicate value indexes', () => {
    const v = { index: 1, type: 'URL', data: 'https://x' };
    expect(validate(RegisterIdentifier, { kind: 'SV', values: [v, v] }).ok).toBe(false);
  });
});

describe('scheduling and reports', () => {
  it('fills task template defaults', () => {
    const t = TaskTemplate.parse({ demand: { cpuCores: 4, memoryGib: 16 }, durationHours: 2 });
    expect(t).toMatchObject({
      replicas: 1,
      placement: 'single',
      objective: 'balanced',
      priority: 100,
      latencyTolerant: false,
    });
  });

  it('rejects a report with a negative capacity', () => {
    const vec = { cpuCores: -1, memoryGib: 1, storageGib: 1, bandwidthGbps: 1 };
    const r = validate(CapacityReport, {
      protocol: '1.0',
      gateway: 'CPN.51.C151/PV-1D2',
      seq: 1,
      at: '2026-11-26T00:00:00.000Z',
      clusters: [
        {
          cluster: 'CPN.51/ND-1EJ',
          k1: vec,
          k2: vec,
          price: { perCoreHourYuan: 0.1 },
          pue: 1.2,
          greenShare: 0.5,
          metrics: { cpuUtil: 0, memoryUtil: 0, acceleratorUtil: 0, latencyMs: 3, health: 'healthy' },
        },
      ],
    });
    expect(r.ok).toBe(false);
  });
});

describe('the one summary upward', () => {
  const figures = {
    provinces: ['51'],
    archs: ['x86_64'],
    clusters: 2,
    available: { cpuCores: 64, memoryGib: 256, cards: { A800: 8 } },
    largest: { cpuCores: 64, memoryGib: 256, cards: { A800: 8 } },
    minPricePerCoreHourYuan: 0.1,
    minPricePerCardHourYuan: null,
    kgCo2PerItKwh: 0.4,
    maxSecurityLevel: 3,
    meanReliability: 0.99,
    minLatencyMsTo: { '51': 2 },
    health: 'healthy',
    ceiling: { cpuCores: 64, memoryGib: 256, cards: { A800: 8 } },
  };
  const summary = {
    node: 'CPN.51',
    at: '2026-11-26T00:00:00.000Z',
    clusters: 2,
    healthy: 2,
    byClass: {},
    byProvince: {},
    byIndustry: {},
  };

  it('defines SchedulingSummary as node and time plus SchedulingFigures', () => {
    expect(Object.keys(SchedulingSummary.shape)).toEqual(['node', 'at', ...Object.keys(SchedulingFigures.shape)]);
    expect(SchedulingSummary.safeParse({ node: 'CPN.51', at: summary.at, ...figures }).success).toBe(true);
  });

  it('reads the figures in ext.scheduling of a SubtreeSummary, and none from a 1.0 summary or a malformed one', () => {
    const one = SubtreeSummary.parse({ ...summary, ext: { scheduling: figures } });
    expect(schedulingFiguresOf(one)).toMatchObject({ clusters: 2, available: { cpuCores: 64 } });
    expect(schedulingFiguresOf(SubtreeSummary.parse(summary))).toBeNull();
    expect(schedulingFiguresOf({ ...summary, ext: { scheduling: { ...figures, clusters: -1 } } })).toBeNull();
    expect(schedulingFiguresOf({ ...summary, ext: { scheduling: 'x' } })).toBeNull();
    expect(schedulingFiguresOf(null)).toBeNull();
  });

  it("reads the parent's ceiling in ext.ceiling of its answer, and none when absent or malformed", () => {
    expect(summaryCeilingOf({ accepted: 1, duplicates: 0, ext: { ceiling: figures.ceiling } })).toEqual(
      figures.ceiling,
    );
    expect(summaryCeilingOf({ accepted: 1, duplicates: 0 })).toBeNull();
    expect(summaryCeilingOf({ accepted: 1, duplicates: 0, ext: { ceiling: { cpuCores: 'many' } } })).toBeNull();
  });
});

describe('shared rules', () => {
  it('data residency', () => {
    expect(residencyVerdict(undefined, '51')).toEqual({ allowed: true });
    expect(residencyVerdict(undefined, '81').allowed).toBe(false);
    expect(residencyVerdict({ allowOutsideMainland: true }, '81').allowed).toBe(true);
    expect(residencyVerdict({ provinces: ['51', '52'] }, '44')).toEqual({
      allowed: false,
      reason: 'data residency allows provinces 51, 52, not 44',
    });
  });

  it('protocol versions', () => {
    expect(checkProtocolVersion('1.0').ok).toBe(true);
    // Version skew N±1: 1.1 (a peer one minor ahead) is spoken with; 1.7 and 1.2 are too far apart.
    expect(checkProtocolVersion('1.1').ok).toBe(true);
    expect(checkProtocolVersion('1.7')).toMatchObject({ ok: false, reason: expect.stringContaining('1.0–1.1') });
    expect(checkProtocolVersion('1.2').ok).toBe(false);
    expect(checkProtocolVersion('1.2', '1.3').ok).toBe(true);
    expect(checkProtocolVersion('1.4', '1.3').ok).toBe(true);
    expect(checkProtocolVersion('1.5', '1.3').ok).toBe(false);
    expect(checkProtocolVersion('2.0').ok).toBe(false);
    expect(checkProtocolVersion(undefined).ok).toBe(false);
    expect(checkProtocolVersion('one').ok).toBe(false);
  });

  it('reads advertised capabilities, and nothing from a malformed list', () => {
    expect(hasCapability({ ext: { capabilities: ['one-summary', 'report-unchanged'] } }, 'report-unchanged')).toBe(
      true,
    );
    expect(hasCapability({ ext: { capabilities: ['one-summary'] } }, 'report-unchanged')).toBe(false);
    expect(hasCapability({ ext: { capabilities: 'report-unchanged' } }, 'report-unchanged')).toBe(false);
    expect(hasCapability(null, 'check-list-1.1')).toBe(false);
    // @ts-expect-error a name this version does not know is a compile error, not a silent false
    expect(hasCapability({ ext: { capabilities: ['report-unchanged'] } }, 'report-unchanged ')).toBe(false);
  });

  it('maps every error code to a 4xx or 5xx and an exit code', () => {
    for (const [code, v] of Object.entries(ERROR_CODES)) {
      expect(v.status >= 400 && v.status < 600, code).toBe(true);
      expect([1, 2, 3]).toContain(v.exit);
      if (v.status < 500) expect(v.exit, code).toBe(2);
    }
  });

  it('carries the identifier grammar as a pattern, while the parser still normalises what it accepts', () => {
    const schemas = jsonSchemas() as Record<string, { properties: Record<string, { pattern?: string }> }>;
    expect(schemas.IdentifierRecord!.properties.id!.pattern).toBe(IDENTIFIER_PATTERN);
    expect(schemas.IdentifierRecord!.properties.owner!.pattern).toBe(PREFIX_PATTERN);
    expect(new RegExp(IDENTIFIER_PATTERN).test('CPN.51/ND-1EJ')).toBe(true);
    expect(validate(Identifier, ' cpn.51/nd-1ej')).toEqual({ ok: true, value: 'CPN.51/ND-1EJ' });
    expect(validate(Prefix, 'cpn.51.c151')).toEqual({ ok: true, value: 'CPN.51.C151' });
    expect(validate(IndustryCode, 'C151').ok).toBe(true);
    expect(validate(IndustryCode, 'A151').ok).toBe(false);
  });

  it('maps a bare status back to its general code', () => {
    expect(codeForStatus(400)).toBe('SCHEMA_VIOLATION');
    expect(codeForStatus(401)).toBe('UNAUTHENTICATED');
    expect(codeForStatus(404)).toBe('NOT_FOUND');
    expect(codeForStatus(422)).toBe('RULE_VIOLATION');
    expect(codeForStatus(503)).toBe('UPSTREAM_UNAVAILABLE');
    expect(codeForStatus(502)).toBe('INTERNAL');
    expect(codeForStatus(418)).toBe('SCHEMA_VIOLATION');
  });

  it('an invalid credit code is INVALID_CREDIT_CODE naming the field', () => {
    const r = validate(RegisterProvider, {
      name: 'x',
      creditCode: '91510100MA6CXXXX1E',
      province: '51',
      city: '成都',
      publicKey: 'k',
    });
    expect(!r.ok && r.error.error).toMatchObject({ code: 'INVALID_CREDIT_CODE', field: 'creditCode' });
  });

  it('exports a JSON Schema for every message', () => {
    const schemas = jsonSchemas();
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'Application',
        'CapacityReport',
        'TaskTemplate',
        'IdentifierRecord',
        'MonitorEvent',
        'RecordingHeader',
      ]),
    );
  });
});

describe('typed template extensions (issue 27): ext.data and ext.locality', () => {
  it('accept good values and name the field of a bad one; the 1.0 TaskTemplate keeps its shape', async () => {
    const { TaskTemplate, checkTemplateExt } = await import('./scheduling.ts');
    const t = (ext: Record<string, unknown>) =>
      TaskTemplate.parse({ demand: { cpuCores: 1, memoryGib: 1 }, durationHours: 1, ext });
    expect(checkTemplateExt(t({ data: { inputGib: 10, province: '31', outputGib: 1 }, other: 1 }))).toBeNull();
    expect(checkTemplateExt(t({ locality: { spread: [{ by: 'province', min: 1, max: 2 }] } }))).toBeNull();
    expect(checkTemplateExt(t({ data: { inputGib: -1, province: '31' } }))?.field).toBe('template.ext.data.inputGib');
    expect(checkTemplateExt(t({ data: { inputGib: 1, province: '99' } }))?.field).toBe('template.ext.data.province');
    expect(checkTemplateExt(t({ data: { inputGB: 1, province: '31' } }))?.message).toBe(
      'template.ext.data.inputGB: unknown field',
    );
    expect(checkTemplateExt(t({ locality: { spread: [{ by: 'province', min: 3, max: 2 }] } }))?.field).toBe(
      'template.ext.locality.spread[0].min',
    );
    // ext stays a free record in the 1.0 schema: any JSON passes TaskTemplate itself.
    expect(t({ data: 'anything' }).ext).toEqual({ data: 'anything' });
  });
});

describe('free-form values: the size bound counts UTF-8 bytes exactly', () => {
  // JSON text of a string of `n` copies of `ch`: n units plus the two quotes.
  const of = (ch: string, n: number) => ch.repeat(n);
  it.each([
    ['ASCII, one byte under', of('a', MAX_VALUE_BYTES - 2), null],
    ['ASCII, one byte over', of('a', MAX_VALUE_BYTES - 1), /65537 bytes of JSON/],
    ['CJK (3 bytes a unit), under', of('算', 21_844), null],
    ['CJK, over', of('算', 21_845), /65537 bytes of JSON/],
    ['surrogate pairs (4 bytes for two units), under', of('😀', 16_383), null],
    ['surrogate pairs, over', of('😀', 16_384), /65538 bytes of JSON/],
  ])('%s', (_name, value, problem) => {
    const found = valueBoundsProblem(value);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});
