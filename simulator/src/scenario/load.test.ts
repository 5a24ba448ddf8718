import { describe, expect, it } from 'vitest';
import { formatScenarioErrors, parseScenario } from './load.ts';

const good = `
name: tiny
seed: 7
topology:
  regions:
    - code: "51"
      industries: [C151, C397]
steps:
  - at: 0s
    do: apply
    node: CPN.51
  - at: 1m30s
    that: lifecycle
    node: CPN.51
    is: online
`;

describe('scenario files', () => {
  it('parse with defaults and durations in ms', () => {
    const r = parseScenario(good, 'tiny.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.topology.regions[0]?.industries).toEqual(['C151', 'C397']);
    expect(r.value.steps[1]).toMatchObject({ at: 90_000, that: 'lifecycle', is: 'online' });
  });

  it('name the file, line and field of a typo in an action', () => {
    const r = parseScenario(good.replace('do: apply', 'do: aply'), 'tiny.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatScenarioErrors(r.errors)).toMatch(/^tiny\.yaml:10:\d+: steps\.0\.do: /);
  });

  it('name an unknown field at its line', () => {
    const r = parseScenario(
      good.replace('    node: CPN.51\n  - at: 1m30s', '    node: CPN.51\n    nodee: CPN.51\n  - at: 1m30s'),
      'x.yaml',
    );
    expect(!r.ok && r.errors[0]).toMatchObject({ line: 12, field: 'steps.0.nodee', message: 'unknown field "nodee"' });
  });

  it('explain a malformed prefix through the identifier rules', () => {
    const r = parseScenario(good.replace('node: CPN.51\n  - at: 1m30s', 'node: CPN.99\n  - at: 1m30s'), 'x.yaml');
    expect(!r.ok && r.errors[0]?.message).toContain('region');
  });

  it('refuse a step that is neither action nor expectation', () => {
    const r = parseScenario(good.replace('do: apply', 'dO: apply'), 'x.yaml');
    expect(!r.ok && r.errors[0]?.message).toContain('a step needs "do"');
  });

  it('refuse two regional nodes in one province', () => {
    const r = parseScenario(
      good.replace('      industries: [C151, C397]', '      industries: [C151, C397]\n    - code: "51"'),
      'x.yaml',
    );
    expect(!r.ok && r.errors[0]).toMatchObject({ field: 'topology.regions.1.code', line: 8 });
  });

  it('refuse a second node for one industry under auto review, naming where', () => {
    const r = parseScenario(
      good.replace(
        '      industries: [C151, C397]',
        '      industries: [C151, C397]\n    - code: "52"\n      industries: [C341, C397]',
      ),
      'x.yaml',
    );
    expect(!r.ok && r.errors[0]).toMatchObject({ field: 'topology.regions.1.industries.1' });
    expect(!r.ok && r.errors[0]?.message).toContain('industry C397 already has a node in region 51');
  });

  it('report YAML syntax errors with their line', () => {
    const r = parseScenario('name: x\ntopology: [\n', 'bad.yaml');
    expect(!r.ok && r.errors[0]?.line).toBeGreaterThan(0);
    expect(!r.ok && r.errors[0]?.message).toMatch(/^YAML: /);
  });

  it('refuse a step naming a node the topology lacks, at its line, with the closest known node', () => {
    const r = parseScenario(
      good.replace('node: CPN.51\n    is: online', 'node: CPN.51.C152\n    is: online'),
      'x.yaml',
    );
    expect(!r.ok && r.errors).toEqual([
      {
        file: 'x.yaml',
        line: 14,
        column: 5,
        field: 'steps.1.node',
        message: 'node CPN.51.C152 is not in the topology; did you mean CPN.51.C151?',
      },
    ]);
    const link = parseScenario(
      `${good}  - { at: 2m, do: fault, fault: { kind: partition, target: CPN.52~CPN } }\n`,
      'x.yaml',
    );
    expect(!link.ok && link.errors[0]?.message).toBe('node CPN.52 is not in the topology; did you mean CPN.51?');
  });

  it('accept a node an apply step starts outside the topology (a rule-breaking applicant)', () => {
    const r = parseScenario(
      `${good}  - { at: 2m, do: apply, node: CPN.52, breaks: [capital] }\n  - { at: 3m, that: refused, node: CPN.52, rules: [capital] }\n`,
      'x.yaml',
    );
    expect(r.ok).toBe(true);
  });

  it('place a YAML error left open at the end of the file where it opens, not on a line past the end', () => {
    const text = 'name: x\ntopology: {}\nsteps:\n  - { at: 1s, do: fault\n';
    const r = parseScenario(text, 'open.yaml');
    expect(!r.ok && [r.errors[0]?.line, r.errors[0]?.column]).toEqual([4, 5]);
    const nested = parseScenario(
      'name: x\ntopology: {}\nsteps:\n  - { at: 1s, do: fault, fault: { kind: kill, target: CPN }\n',
      'nested.yaml',
    );
    expect(!nested.ok && [nested.errors[0]?.line, nested.errors[0]?.column]).toEqual([4, 5]);
    const quote = parseScenario('name: "x\ntopology: {}\n', 'q.yaml');
    expect(!quote.ok && [quote.errors[0]?.line, quote.errors[0]?.column]).toEqual([1, 7]);
    expect(!quote.ok && quote.errors[0]?.message).toMatch(/^YAML: Missing closing "quote \(opened here/);
  });

  it('accept a stream template with input data, and name a typo or a bad value in it, and an unknown share stream', () => {
    const jobs = (data: string, stream = 'scan') =>
      good.replace(
        'steps:\n',
        `workload:\n  jobs:\n    - name: scan\n      submitTo: CPN.51\n      count: 1\n      arrival: { kind: burst }\n` +
          `      template: { demand: { cpuCores: 1, memoryGib: 1 }, durationHours: 1, data: ${data} }\n` +
          `steps:\n  - { at: 2m, that: share, of: data-local, stream: ${stream} }\n`,
      );
    const ok = parseScenario(jobs('{ inputGib: 4096, province: "31" }'), 'x.yaml');
    expect(ok.ok && ok.value.workload.jobs[0]!.template.data).toEqual({ inputGib: 4096, province: '31' });
    const typo = parseScenario(jobs('{ inputGB: 4096, province: "31" }'), 'x.yaml');
    expect(!typo.ok && typo.errors.map((e) => e.field)).toContain('workload.jobs.0.template.data.inputGB');
    const negative = parseScenario(jobs('{ inputGib: -1, province: "31" }'), 'x.yaml');
    expect(!negative.ok && negative.errors[0]?.field).toBe('workload.jobs.0.template.data.inputGib');
    const place = parseScenario(jobs('{ inputGib: 1, province: "99" }'), 'x.yaml');
    expect(!place.ok && place.errors[0]?.field).toBe('workload.jobs.0.template.data.province');
    const stream = parseScenario(jobs('{ inputGib: 1, province: "31" }', 'scna'), 'x.yaml');
    expect(!stream.ok && stream.errors[0]).toMatchObject({ field: 'steps.0.stream' });
  });

  it('refuse a bad duration', () => {
    const r = parseScenario(good.replace('at: 1m30s', 'at: 90 seconds'), 'x.yaml');
    expect(!r.ok && r.errors[0]).toMatchObject({ field: 'steps.1.at', line: 12 });
  });
});

describe('the published JSON Schema', () => {
  it('describes actions and expectations for editors', async () => {
    const { scenarioJsonSchema } = await import('../index.ts');
    const s = JSON.stringify(scenarioJsonSchema());
    expect(s).toContain('"joint-debug"');
    expect(s).toContain('"nothing-lost"');
    expect(s).toContain('"inputGib"');
    expect(s).toContain('"data-local"');
    // Importing the whole simulator (the node and its Prisma client) took ~5 s of wall time on a loaded machine.
  }, 30_000);
});
