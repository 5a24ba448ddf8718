import { Faker, zh_CN, en, base } from '@faker-js/faker';
import { creditCodeCheck, CREDIT_CODE_ALPHABET } from '@cpnet/identifier';

/** A seeded faker with Chinese data: company names, cities, people. */
export function seededFaker(seed: number): Faker {
  const faker = new Faker({ locale: [zh_CN, en, base] });
  faker.seed(seed);
  return faker;
}

/**
 * A plausible 统一社会信用代码 with a valid check character: authority 9 (工商), type 1 (enterprise), the province's
 * division code, a random organisation code. `publicInstitution` gives a 12… code (机构编制 · 事业单位).
 */
export function fakeCreditCode(faker: Faker, options: { province: string; publicInstitution?: boolean }): string {
  const head = options.publicInstitution ? '12' : '91';
  let org = '';
  for (let i = 0; i < 9; i++) org += faker.helpers.arrayElement([...CREDIT_CODE_ALPHABET]);
  const body = `${head}${options.province}0100${org}`;
  return body + creditCodeCheck(body);
}

/** A company name with a 算力/科技 flavour. */
export function fakeCompanyName(faker: Faker, city: string): string {
  const word = faker.helpers.arrayElement(['算力', '云计算', '智算', '数据', '超算', '信息技术', '网络科技']);
  const core =
    faker.person.lastName() + faker.helpers.arrayElement(['华', '天', '云', '数', '信', '联', '智', '川', '岳', '海']);
  const form = faker.helpers.arrayElement(['有限公司', '股份有限公司', '科技有限公司']);
  return `${city}${core}${word}${form}`;
}
