import { creditCodeCheck } from '@cpnet/identifier';
import type { Dossier } from '@cpnet/protocol';
import type { Guide } from './schema.ts';

const code = (body: string) => body + creditCodeCheck(body);

/**
 * A dossier that meets every offline rule of the guide, for a regional node or one of its focus industries: a
 * starting point that `cpnet application init` writes and tests change one field of. Digests are of empty files
 * until the real attachments are added.
 */
export function sampleDossier(guide: Guide, input: { role: 'regional' | 'industry'; industry?: string }): Dossier {
  const industry =
    input.role === 'industry' ? (input.industry ?? guide.applicants.industry.focus[0]?.code ?? null) : null;
  const focus = guide.applicants.industry.focus.find((f) => f.code === industry);
  const city = guide.agencies.find((a) => a.level === 'city')?.name ?? null;
  const name = input.role === 'regional' ? '区域节点' : `${focus?.name ?? industry}行业节点`;
  const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const kinds = guide.materials.filter((m) => m.required !== 'consortium');
  return {
    guide: guide.id,
    declaration: {
      role: input.role,
      region: guide.province,
      industry,
      name: `国家算力互联互通${name}（${guide.province}）`,
      summary: `申报建设${name}，上联国家节点，下联行业节点及算力主体。`,
      builder: {
        name: '示例算力建设有限公司',
        creditCode: code(`91${guide.province}0100MA6C00001`),
        capital: { paidInWanYuan: 6000, subscribedWanYuan: 10_000 },
        fundingCapacity: '自有资金与银行授信，覆盖建设期全部投资。',
      },
      operator: {
        name: '示例算力运营有限公司',
        creditCode: code(`91${guide.province}0100MA6C00002`),
        licence: {
          number: 'B1-20230001',
          scope: ['B1.互联网数据中心业务'],
          issuer: '工业和信息化部',
          validFrom: `${guide.year - 2}-01-01`,
          validUntil: `${guide.year + 3}-01-01`,
        },
        site: { province: guide.province, city: city ?? '省会', address: '高新区示例路1号', areaM2: 2000 },
        equipment: [{ name: '服务器', model: '示例型号', quantity: 200 }],
        staff: { total: 40, technical: 25 },
      },
      consortium: null,
      credit: { records: [] },
      authority:
        input.role === 'regional'
          ? { kind: 'declared', agencies: [...guide.applicants.regional.declaredBy], city: null }
          : { kind: 'recommended', agencies: [...guide.applicants.industry.recommendedBy], city },
      contact: { name: '联系人', phone: '028-00000000', email: 'contact@example.cn' },
    },
    plan: {
      goals: '建设算力供需对接体系机制，实现算力资源标准化互联和高效流动。',
      content: '建设统一服务平台，提供标识注册、互联调度和数据监测等服务。',
      technicalRoute: '采用统一标识、统一标准、统一规则的接口与调度技术。',
      schedule: {
        summary: '分三阶段实施。',
        milestones: [
          { title: '平台上线', due: `${guide.year}-09-30` },
          { title: '完成与国家节点对接联调', due: `${guide.year}-12-31` },
        ],
      },
      funding: {
        summary: '总投资由自有资金和专项资金构成。',
        totalWanYuan: 8000,
        sources: [
          { source: '自有资金', amountWanYuan: 6000 },
          { source: '银行授信', amountWanYuan: 2000 },
        ],
      },
      security: '落实网络安全、数据安全、算力安全主体责任，建立安全管理制度、技术防护体系和应急处置机制。',
      coreSystems: guide.plan.coreSystems[input.role].map((system) => ({ system, detail: `${system}建设细节。` })),
    },
    attachments: kinds.map((m) => ({
      kind: m.kind,
      file: `${m.kind}.pdf`,
      mediaType: 'application/pdf',
      bytes: 0,
      sha256: empty,
    })),
  };
}
