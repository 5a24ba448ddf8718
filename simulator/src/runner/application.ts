import type { Faker } from '@faker-js/faker';
import { province } from '@cpnet/identifier';
import { fakeCompanyName, fakeCreditCode } from '../topology/fake-org.ts';
import type { PlannedNode } from '../topology/expand.ts';

/** Ways an application can be made to break the guide's rules on purpose. */
export type Break = 'capital' | 'licence' | 'dishonesty' | 'duplicate-region' | 'duplicate-industry' | 'funding';

/** The rule of the guide each break violates (as the node names it in its refusal). */
export const RULE_OF_BREAK: Readonly<Record<Break, string>> = {
  capital: 'capital',
  funding: 'funding-capacity',
  licence: 'telecom-licence',
  dishonesty: 'credit-record',
  'duplicate-region': 'one-regional-per-province',
  'duplicate-industry': 'one-industry-per-industry',
};

/**
 * The application (申报) of a node: plausible builder and operator with valid 统一社会信用代码, capital, licence and a
 * clean credit record — or with the given rules broken on purpose. The node fills in its endpoint and public key.
 */
export function makeApplication(
  node: PlannedNode,
  options: { faker: Faker; breaks: readonly Break[]; now: number },
): Record<string, unknown> {
  const { faker, breaks } = options;
  const region = node.province ?? '11';
  const city = province(region)?.capital ?? '北京';
  const builder = fakeCompanyName(faker, city);
  const operator = fakeCompanyName(faker, city);
  const recent = new Date(options.now - 365 * 86_400_000).toISOString().slice(0, 10);
  return {
    role: node.role,
    region,
    industry: node.industry,
    name: node.name,
    builder: {
      name: builder,
      creditCode: fakeCreditCode(faker, { province: region }),
      registeredCapitalWanYuan: breaks.includes('capital')
        ? 1200
        : faker.helpers.arrayElement([8000, 10_000, 20_000, 50_000]),
      fundingCapacityDeclared: !breaks.includes('funding'),
    },
    operator: {
      name: operator,
      creditCode: fakeCreditCode(faker, { province: region }),
      telecomLicence: breaks.includes('licence') ? null : `B1-${faker.string.numeric(8)}`,
    },
    consortium: null,
    credit: {
      records: breaks.includes('dishonesty')
        ? [{ date: recent, description: '被列入严重失信主体名单', major: true }]
        : [],
    },
    site: {
      province: region,
      city,
      address: `${city}${faker.helpers.arrayElement(['高新区', '新区', '经开区'])}${faker.number.int({ min: 1, max: 999 })}号`,
    },
    contact: {
      name: faker.person.fullName(),
      phone: `0${faker.string.numeric(2)}-${faker.string.numeric(8)}`,
      email: `ops${faker.string.numeric(4)}@example.cn`,
    },
  };
}
