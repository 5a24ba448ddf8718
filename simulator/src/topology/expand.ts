import type { Faker } from '@faker-js/faker';
import { groupName, province } from '@cpnet/identifier';
import type { Topology } from '../scenario/schema.ts';
import { fakeCompanyName, fakeCreditCode, seededFaker } from './fake-org.ts';

/** A node the simulator will start. */
export interface PlannedNode {
  readonly code: string;
  readonly role: 'national' | 'regional' | 'industry';
  readonly name: string;
  readonly parent: string | null;
  readonly province: string | null;
  readonly industry: string | null;
}

/** A cluster the simulator will register and run. */
export interface PlannedCluster {
  readonly key: string;
  readonly name: string;
  readonly province: string;
  readonly city: string;
  readonly resourceClass: '401' | '402' | '403';
  readonly arch: 'x86_64' | 'aarch64' | 'loongarch64' | 'sw_64';
  readonly cpuCores: number;
  readonly memoryGib: number;
  readonly accelerators: ReadonlyArray<{ model: string; count: number; fp16Tflops: number; fp32Tflops: number }>;
  readonly pricePerCoreHourYuan: number;
  readonly pricePerCardHourYuan: number;
  readonly pue: number;
  readonly greenShare: number;
  readonly securityLevel: number;
}

/** A provider (compute supplier) with its gateway's clusters. */
export interface PlannedProvider {
  readonly key: string;
  readonly name: string;
  readonly creditCode: string;
  readonly node: string;
  readonly province: string;
  readonly city: string;
  readonly clusters: readonly PlannedCluster[];
}

/** The concrete topology: every node, provider and cluster, generated deterministically from the seed. */
export interface TopologyPlan {
  readonly nodes: readonly PlannedNode[];
  readonly providers: readonly PlannedProvider[];
}

/** Per-card compute of the accelerator models the generator knows (FP16 / FP32 TFLOPS, public spec sheets). */
export const ACCELERATOR_SPECS: Readonly<Record<string, { fp16: number; fp32: number }>> = {
  'Ascend 910B': { fp16: 320, fp32: 80 },
  H800: { fp16: 989, fp32: 67 },
  A800: { fp16: 312, fp32: 19.5 },
  MLU370: { fp16: 96, fp32: 24 },
  'DCU Z100': { fp16: 45, fp32: 22.5 },
};

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** Expands a topology (explicit parts and count templates) into concrete nodes, providers and clusters. */
export function expandTopology(topology: Topology, seed: number): TopologyPlan {
  const faker = seededFaker(seed);
  const nodes: PlannedNode[] = [
    { code: 'CPN', role: 'national', name: topology.national.name, parent: null, province: null, industry: null },
  ];
  for (const r of topology.regions) {
    const p = province(r.code);
    nodes.push({
      code: `CPN.${r.code}`,
      role: 'regional',
      name: r.name ?? `${p?.name ?? r.code}区域节点`,
      parent: 'CPN',
      province: r.code,
      industry: null,
    });
    for (const ind of r.industries) {
      nodes.push({
        code: `CPN.${r.code}.${ind}`,
        role: 'industry',
        name: `${p?.name ?? r.code}${groupName(ind) ?? ind}行业节点`,
        parent: `CPN.${r.code}`,
        province: r.code,
        industry: ind,
      });
    }
  }
  const known = new Set(nodes.map((n) => n.code));
  const providers: PlannedProvider[] = [];
  topology.providers.forEach((spec, i) => {
    requireNode(known, spec.node, `topology.providers.${i}.node`);
    const prov = spec.clusters[0]?.province ?? provinceOf(spec.node);
    const city = province(prov)?.capital ?? '成都';
    providers.push({
      key: `p${providers.length}`,
      name: spec.name ?? fakeCompanyName(faker, city),
      creditCode: spec.creditCode ?? fakeCreditCode(faker, { province: prov }),
      node: spec.node,
      province: prov,
      city,
      clusters: spec.clusters.map((c, j) =>
        explicitCluster({ faker, spec: c, key: `p${providers.length}c${j}`, province: c.province ?? prov }),
      ),
    });
  });
  topology.providerTemplates.forEach((t, ti) => {
    t.nodes.forEach((n, k) => requireNode(known, n, `topology.providerTemplates.${ti}.nodes.${k}`));
    for (let i = 0; i < t.count; i++)
      providers.push(templateProvider({ faker, t, key: `p${providers.length}`, node: t.nodes[i % t.nodes.length]! }));
  });
  return { nodes, providers };
}

function requireNode(known: ReadonlySet<string>, code: string, field: string): void {
  if (!known.has(code)) throw new RangeError(`${field}: node ${code} is not in the topology`);
}

function provinceOf(prefix: string): string {
  return prefix.split('.')[1] ?? '11';
}

function explicitCluster(o: {
  faker: Faker;
  spec: Topology['providers'][number]['clusters'][number];
  key: string;
  province: string;
}): PlannedCluster {
  const { faker, spec } = o;
  return {
    key: o.key,
    name:
      spec.name ??
      `${province(o.province)?.capital ?? ''}${faker.helpers.arrayElement(['一', '二', '三', '四'])}号智算集群`,
    province: o.province,
    city: province(o.province)?.capital ?? '',
    resourceClass: spec.resourceClass,
    arch: spec.arch,
    cpuCores: spec.cpuCores,
    memoryGib: spec.memoryGib,
    accelerators: spec.accelerators.map((a) => ({
      ...a,
      fp16Tflops: ACCELERATOR_SPECS[a.model]?.fp16 ?? 100,
      fp32Tflops: ACCELERATOR_SPECS[a.model]?.fp32 ?? 20,
    })),
    pricePerCoreHourYuan: spec.pricePerCoreHourYuan ?? round(faker.number.float({ min: 0.05, max: 0.3 }), 3),
    pricePerCardHourYuan: spec.pricePerCardHourYuan ?? round(faker.number.float({ min: 6, max: 30 }), 2),
    pue: spec.pue ?? round(faker.number.float({ min: 1.1, max: 1.5 }), 2),
    greenShare: spec.greenShare ?? round(faker.number.float({ min: 0.1, max: 0.9 }), 2),
    securityLevel: spec.securityLevel,
  };
}

function templateProvider(o: {
  faker: Faker;
  t: Topology['providerTemplates'][number];
  key: string;
  node: string;
}): PlannedProvider {
  const { faker, t } = o;
  const prov = provinceOf(o.node);
  const city = province(prov)?.capital ?? '';
  const count = faker.number.int({ min: Math.round(t.clusters.min), max: Math.round(t.clusters.max) });
  const clusters: PlannedCluster[] = [];
  for (let j = 0; j < count; j++) {
    const withAccel = faker.number.float() < t.acceleratorShare;
    const model = faker.helpers.arrayElement(t.acceleratorModels);
    const cores = faker.number.int({ min: Math.round(t.cpuCores.min), max: Math.round(t.cpuCores.max) });
    clusters.push({
      key: `${o.key}c${j}`,
      name: `${city}${faker.helpers.arrayElement(['东', '西', '南', '北', '新区', '高新'])}${withAccel ? '智算' : '通用'}集群${j + 1}`,
      province: prov,
      city,
      resourceClass: withAccel ? '403' : faker.helpers.arrayElement(['401', '402'] as const),
      arch: faker.helpers.arrayElement(['x86_64', 'x86_64', 'aarch64'] as const),
      cpuCores: cores,
      memoryGib: cores * 4,
      accelerators: withAccel
        ? [
            {
              model,
              count: faker.number.int({ min: 8, max: 512 }),
              fp16Tflops: ACCELERATOR_SPECS[model]?.fp16 ?? 100,
              fp32Tflops: ACCELERATOR_SPECS[model]?.fp32 ?? 20,
            },
          ]
        : [],
      pricePerCoreHourYuan: round(faker.number.float(t.pricePerCoreHourYuan), 3),
      pricePerCardHourYuan: round(faker.number.float({ min: 6, max: 30 }), 2),
      pue: round(faker.number.float(t.pue), 2),
      greenShare: round(faker.number.float(t.greenShare), 2),
      securityLevel: faker.number.int({ min: 2, max: 4 }),
    });
  }
  return {
    key: o.key,
    name: fakeCompanyName(faker, city),
    creditCode: fakeCreditCode(faker, { province: prov }),
    node: o.node,
    province: prov,
    city,
    clusters,
  };
}
