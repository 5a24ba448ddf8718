import { GROUP_NAMES } from './industry-groups.ts';

/** The 473 中类 (groups) of GB/T 4754-2017 by code such as `C151`. */
export { GROUP_NAMES };

/** A GB/T 4754-2017 section (门类). */
export interface Section {
  readonly letter: string;
  readonly name: string;
  /** Inclusive range of 2-digit divisions (大类) in this section. */
  readonly from: number;
  readonly to: number;
}

/** The 20 sections A–T with their division ranges. */
export const SECTIONS: readonly Section[] = [
  { letter: 'A', name: '农、林、牧、渔业', from: 1, to: 5 },
  { letter: 'B', name: '采矿业', from: 6, to: 12 },
  { letter: 'C', name: '制造业', from: 13, to: 43 },
  { letter: 'D', name: '电力、热力、燃气及水生产和供应业', from: 44, to: 46 },
  { letter: 'E', name: '建筑业', from: 47, to: 50 },
  { letter: 'F', name: '批发和零售业', from: 51, to: 52 },
  { letter: 'G', name: '交通运输、仓储和邮政业', from: 53, to: 60 },
  { letter: 'H', name: '住宿和餐饮业', from: 61, to: 62 },
  { letter: 'I', name: '信息传输、软件和信息技术服务业', from: 63, to: 65 },
  { letter: 'J', name: '金融业', from: 66, to: 69 },
  { letter: 'K', name: '房地产业', from: 70, to: 70 },
  { letter: 'L', name: '租赁和商务服务业', from: 71, to: 72 },
  { letter: 'M', name: '科学研究和技术服务业', from: 73, to: 75 },
  { letter: 'N', name: '水利、环境和公共设施管理业', from: 76, to: 79 },
  { letter: 'O', name: '居民服务、修理和其他服务业', from: 80, to: 82 },
  { letter: 'P', name: '教育', from: 83, to: 83 },
  { letter: 'Q', name: '卫生和社会工作', from: 84, to: 85 },
  { letter: 'R', name: '文化、体育和娱乐业', from: 86, to: 90 },
  { letter: 'S', name: '公共管理、社会保障和社会组织', from: 91, to: 96 },
  { letter: 'T', name: '国际组织', from: 97, to: 97 },
];

/** Names of the 97 divisions (大类), indexed by number. */
export const DIVISION_NAMES: Readonly<Record<number, string>> = {
  1: '农业',
  2: '林业',
  3: '畜牧业',
  4: '渔业',
  5: '农、林、牧、渔专业及辅助性活动',
  6: '煤炭开采和洗选业',
  7: '石油和天然气开采业',
  8: '黑色金属矿采选业',
  9: '有色金属矿采选业',
  10: '非金属矿采选业',
  11: '开采专业及辅助性活动',
  12: '其他采矿业',
  13: '农副食品加工业',
  14: '食品制造业',
  15: '酒、饮料和精制茶制造业',
  16: '烟草制品业',
  17: '纺织业',
  18: '纺织服装、服饰业',
  19: '皮革、毛皮、羽毛及其制品和制鞋业',
  20: '木材加工和木、竹、藤、棕、草制品业',
  21: '家具制造业',
  22: '造纸和纸制品业',
  23: '印刷和记录媒介复制业',
  24: '文教、工美、体育和娱乐用品制造业',
  25: '石油、煤炭及其他燃料加工业',
  26: '化学原料和化学制品制造业',
  27: '医药制造业',
  28: '化学纤维制造业',
  29: '橡胶和塑料制品业',
  30: '非金属矿物制品业',
  31: '黑色金属冶炼和压延加工业',
  32: '有色金属冶炼和压延加工业',
  33: '金属制品业',
  34: '通用设备制造业',
  35: '专用设备制造业',
  36: '汽车制造业',
  37: '铁路、船舶、航空航天和其他运输设备制造业',
  38: '电气机械和器材制造业',
  39: '计算机、通信和其他电子设备制造业',
  40: '仪器仪表制造业',
  41: '其他制造业',
  42: '废弃资源综合利用业',
  43: '金属制品、机械和设备修理业',
  44: '电力、热力生产和供应业',
  45: '燃气生产和供应业',
  46: '水的生产和供应业',
  47: '房屋建筑业',
  48: '土木工程建筑业',
  49: '建筑安装业',
  50: '建筑装饰、装修和其他建筑业',
  51: '批发业',
  52: '零售业',
  53: '铁路运输业',
  54: '道路运输业',
  55: '水上运输业',
  56: '航空运输业',
  57: '管道运输业',
  58: '多式联运和运输代理业',
  59: '装卸搬运和仓储业',
  60: '邮政业',
  61: '住宿业',
  62: '餐饮业',
  63: '电信、广播电视和卫星传输服务',
  64: '互联网和相关服务',
  65: '软件和信息技术服务业',
  66: '货币金融服务',
  67: '资本市场服务',
  68: '保险业',
  69: '其他金融业',
  70: '房地产业',
  71: '租赁业',
  72: '商务服务业',
  73: '研究和试验发展',
  74: '专业技术服务业',
  75: '科技推广和应用服务业',
  76: '水利管理业',
  77: '生态保护和环境治理业',
  78: '公共设施管理业',
  79: '土地管理业',
  80: '居民服务业',
  81: '机动车、电子产品和日用产品修理业',
  82: '其他服务业',
  83: '教育',
  84: '卫生',
  85: '社会工作',
  86: '新闻和出版业',
  87: '广播、电视、电影和录音制作业',
  88: '文化艺术业',
  89: '体育',
  90: '娱乐业',
  91: '中国共产党机关',
  92: '国家机构',
  93: '人民政协、民主党派',
  94: '社会保障',
  95: '群众团体、社会团体和其他成员组织',
  96: '基层群众自治组织及其他组织',
  97: '国际组织',
};

/** Section letter's char code for each division number 1–97 (0 for none). */
export const SECTION_OF_DIVISION: Uint8Array = (() => {
  const table = new Uint8Array(100);
  for (const s of SECTIONS) for (let d = s.from; d <= s.to; d++) table[d] = s.letter.charCodeAt(0);
  return table;
})();

/** The section for a letter, or undefined. */
export function section(letter: string): Section | undefined {
  return SECTIONS.find((s) => s.letter === letter);
}

/**
 * The name of a 中类 such as `C151`, or null when GB/T 4754-2017 has no such group (a well-formed but unknown 中类
 * is still a valid industry segment; it just has no name).
 */
export function groupName(code: string): string | null {
  return Object.hasOwn(GROUP_NAMES, code) ? GROUP_NAMES[code]! : null;
}

/** The name of a division (大类) by number, or undefined. */
export function divisionName(division: number): string | undefined {
  return DIVISION_NAMES[division];
}
