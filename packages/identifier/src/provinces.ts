/** Macro-region used by 东数西算 (east data, west compute). */
export type MacroRegion = 'east' | 'central' | 'west' | 'northeast' | 'sar';

/** A GB/T 2260 province-level division. */
export interface Province {
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
  readonly macro: MacroRegion;
  /** Capital city and its approximate position, used for latency models and the tile map. */
  readonly capital: string;
  readonly lat: number;
  readonly lon: number;
}

type Row = [code: string, name: string, nameEn: string, macro: MacroRegion, capital: string, lat: number, lon: number];
const p = (...[code, name, nameEn, macro, capital, lat, lon]: Row): Province => ({
  code,
  name,
  nameEn,
  macro,
  capital,
  lat,
  lon,
});

/** All 34 GB/T 2260 province-level codes with names, in code order. */
export const PROVINCES: readonly Province[] = [
  p('11', '北京市', 'Beijing', 'east', '北京', 39.9, 116.4),
  p('12', '天津市', 'Tianjin', 'east', '天津', 39.1, 117.2),
  p('13', '河北省', 'Hebei', 'east', '石家庄', 38.0, 114.5),
  p('14', '山西省', 'Shanxi', 'central', '太原', 37.9, 112.5),
  p('15', '内蒙古自治区', 'Inner Mongolia', 'west', '呼和浩特', 40.8, 111.7),
  p('21', '辽宁省', 'Liaoning', 'northeast', '沈阳', 41.8, 123.4),
  p('22', '吉林省', 'Jilin', 'northeast', '长春', 43.9, 125.3),
  p('23', '黑龙江省', 'Heilongjiang', 'northeast', '哈尔滨', 45.8, 126.5),
  p('31', '上海市', 'Shanghai', 'east', '上海', 31.2, 121.5),
  p('32', '江苏省', 'Jiangsu', 'east', '南京', 32.1, 118.8),
  p('33', '浙江省', 'Zhejiang', 'east', '杭州', 30.3, 120.2),
  p('34', '安徽省', 'Anhui', 'central', '合肥', 31.8, 117.3),
  p('35', '福建省', 'Fujian', 'east', '福州', 26.1, 119.3),
  p('36', '江西省', 'Jiangxi', 'central', '南昌', 28.7, 115.9),
  p('37', '山东省', 'Shandong', 'east', '济南', 36.7, 117.0),
  p('41', '河南省', 'Henan', 'central', '郑州', 34.8, 113.7),
  p('42', '湖北省', 'Hubei', 'central', '武汉', 30.6, 114.3),
  p('43', '湖南省', 'Hunan', 'central', '长沙', 28.2, 112.9),
  p('44', '广东省', 'Guangdong', 'east', '广州', 23.1, 113.3),
  p('45', '广西壮族自治区', 'Guangxi', 'west', '南宁', 22.8, 108.3),
  p('46', '海南省', 'Hainan', 'east', '海口', 20.0, 110.3),
  p('50', '重庆市', 'Chongqing', 'west', '重庆', 29.6, 106.5),
  p('51', '四川省', 'Sichuan', 'west', '成都', 30.7, 104.1),
  p('52', '贵州省', 'Guizhou', 'west', '贵阳', 26.6, 106.7),
  p('53', '云南省', 'Yunnan', 'west', '昆明', 25.0, 102.7),
  p('54', '西藏自治区', 'Tibet', 'west', '拉萨', 29.7, 91.1),
  p('61', '陕西省', 'Shaanxi', 'west', '西安', 34.3, 108.9),
  p('62', '甘肃省', 'Gansu', 'west', '兰州', 36.1, 103.8),
  p('63', '青海省', 'Qinghai', 'west', '西宁', 36.6, 101.8),
  p('64', '宁夏回族自治区', 'Ningxia', 'west', '银川', 38.5, 106.3),
  p('65', '新疆维吾尔自治区', 'Xinjiang', 'west', '乌鲁木齐', 43.8, 87.6),
  p('71', '台湾省', 'Taiwan', 'east', '台北', 25.0, 121.5),
  p('81', '香港特别行政区', 'Hong Kong', 'sar', '香港', 22.3, 114.2),
  p('82', '澳门特别行政区', 'Macao', 'sar', '澳门', 22.2, 113.5),
];

const BY_CODE: ReadonlyMap<string, Province> = new Map(PROVINCES.map((x) => [x.code, x]));

/** 1 at index n when n (0–99) is a province-level code. */
export const IS_PROVINCE_NUMBER: Uint8Array = (() => {
  const table = new Uint8Array(100);
  for (const x of PROVINCES) table[Number(x.code)] = 1;
  return table;
})();

/** The province for a 2-digit code, or undefined. */
export function province(code: string): Province | undefined {
  return BY_CODE.get(code);
}
