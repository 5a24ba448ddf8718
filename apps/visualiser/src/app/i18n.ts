/** Languages of the page: Chinese by default, English switchable. */
export type Lang = 'zh' | 'en';

const zh = {
  title: '国家算力互联互通节点体系 · 可视化', replay: '回放', live: '实时', none: '无数据源', play: '播放', pause: '暂停', speed: '速度',
  time: '时间', language: 'English', topology: '节点拓扑', tilemap: '省级示意图（非行政区划边界）', timeline: '事件时间线',
  overview: '概览', nodes: '节点', service: '算力互联网服务中心', jobsByState: '作业状态', scheduling: '调度时延',
  utilisation: '利用率', price: '价格（元/核时）', byProvince: '各省利用率与价格', identifiers: '标识', registered: '已注册', resolved: '已解析',
  alerts: '安全告警', clusters: '集群', province: '省份', node: '节点', cluster: '集群', job: '作业', identifier: '标识', close: '关闭',
  lifecycle: '生命周期', health: '健康', role: '角色', parent: '上级节点', industry: '行业', provider: '提供方', cores: 'CPU 核', coresFree: '可用核',
  accelerators: '加速卡', acceleratorsFree: '可用加速卡', green: '绿电占比', state: '状态', from: '用户省份', to: '算力省份', tenant: '租户',
  explanation: '调度解释', noExplanation: '事件中没有调度解释', candidates: '候选', excluded: '排除', score: '得分', reason: '原因', rank: '排名',
  episodes: '故障切换', open: '未恢复', recovered: '已恢复', filters: '筛选', allFamilies: '全部', minSeverity: '最低级别', search: '搜索节点/标识',
  info: '信息', warning: '警告', critical: '严重', events: '事件', recent: '最近事件', loading: '正在加载…', loaded: '已加载',
  skipped: '行无效已跳过', market: '算力市场', type: '类型', all: '全部', cpu: 'CPU', accelerator: '加速卡', submit: '提交选择请求',
  needsLive: '提交任务模板需要连接在线节点（当前为回放模式）。请用 cpnet viz --live <url> 启动。', template: '任务模板',
  memory: '内存 GiB', duration: '时长（小时）', objective: '目标', latencyTolerant: '可容忍时延（东数西算）', answer: '选择结果', answeredBy: '应答节点',
  legendFill: '填充 = 生命周期', legendRing: '外环 = 健康', legendDots: '点 = 集群（颜色 = 利用率，红 = 故障）', nodesCount: '节点', clustersCount: '集群',
  p50: 'p50', p99: 'p99', ms: '毫秒', flows: '作业流向', failed: '失败', perMinute: '次/分', more: '更多', jobs: '作业',
  role_national: '国家节点', role_regional: '区域节点', role_industry: '行业节点', connecting: '连接中', connected: '已连接', disconnected: '已断开', error: '错误',
  nothing: '无', east: '东部', west: '西部', record: '记录', kind: '类别', serial: '序列号', check: '校验码', prefix: '前缀', region: '地区',
  priceShort: '元/核时', children: '下级节点', inFlight: '在途作业', selectHint: '点击节点、集群、省份或事件查看详情', eventsAbout: '相关事件', flowLegend: '点的密度 = 调度速率；红点 = 失败',
};

type Dict = typeof zh;

const en: Dict = {
  title: 'National compute interconnection nodes · visualiser', replay: 'Replay', live: 'Live', none: 'No source', play: 'Play', pause: 'Pause', speed: 'Speed',
  time: 'Time', language: '中文', topology: 'Node topology', tilemap: 'Province tile map (schematic, not boundaries)', timeline: 'Event timeline',
  overview: 'Overview', nodes: 'Nodes', service: 'Compute service centre', jobsByState: 'Jobs by state', scheduling: 'Scheduling latency',
  utilisation: 'Utilisation', price: 'Price (¥/core-hour)', byProvince: 'Utilisation and price by province', identifiers: 'Identifiers', registered: 'registered', resolved: 'resolved',
  alerts: 'Security alerts', clusters: 'Clusters', province: 'Province', node: 'Node', cluster: 'Cluster', job: 'Job', identifier: 'Identifier', close: 'Close',
  lifecycle: 'Lifecycle', health: 'Health', role: 'Role', parent: 'Parent', industry: 'Industry', provider: 'Provider', cores: 'CPU cores', coresFree: 'Free cores',
  accelerators: 'Accelerators', acceleratorsFree: 'Free accelerators', green: 'Green power', state: 'State', from: 'User province', to: 'Compute province', tenant: 'Tenant',
  explanation: 'Scheduling explanation', noExplanation: 'No explanation in the events', candidates: 'Candidates', excluded: 'Excluded', score: 'Score', reason: 'Reason', rank: 'Rank',
  episodes: 'Failover episodes', open: 'open', recovered: 'recovered', filters: 'Filters', allFamilies: 'All', minSeverity: 'Min severity', search: 'Find node / identifier',
  info: 'info', warning: 'warning', critical: 'critical', events: 'Events', recent: 'Recent events', loading: 'Loading…', loaded: 'Loaded',
  skipped: 'invalid lines skipped', market: 'Compute market', type: 'Type', all: 'All', cpu: 'CPU', accelerator: 'Accelerator', submit: 'Submit selection',
  needsLive: 'Submitting a task template needs a live node (this is a replay). Start with cpnet viz --live <url>.', template: 'Task template',
  memory: 'Memory GiB', duration: 'Duration (hours)', objective: 'Objective', latencyTolerant: 'Latency tolerant (east data, west compute)', answer: 'Selection answer', answeredBy: 'Answered by',
  legendFill: 'fill = lifecycle', legendRing: 'ring = health', legendDots: 'dots = clusters (colour = utilisation, red = down)', nodesCount: 'nodes', clustersCount: 'clusters',
  p50: 'p50', p99: 'p99', ms: 'ms', flows: 'Job flows', failed: 'failed', perMinute: '/min', more: 'more', jobs: 'Jobs',
  role_national: 'National node', role_regional: 'Regional node', role_industry: 'Industry node', connecting: 'connecting', connected: 'connected', disconnected: 'disconnected', error: 'error',
  nothing: 'none', east: 'east', west: 'west', record: 'Record', kind: 'Kind', serial: 'Serial', check: 'Check', prefix: 'Prefix', region: 'Region',
  priceShort: '¥/core-h', children: 'Child nodes', inFlight: 'Jobs in flight', selectHint: 'Click a node, cluster, province or event for details', eventsAbout: 'Events about it', flowLegend: 'dot density = placement rate; red = failures',
};

/** A message key. */
export type Key = keyof Dict;

let current: Lang = 'zh';

/** The current language. */
export const lang = (): Lang => current;
/** Switches the language (views re-render on the next update). */
export function setLang(next: Lang): void {
  current = next;
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
}
/** The message for a key in the current language. */
export const t = (key: Key): string => (current === 'zh' ? zh : en)[key];
/** A province's display name in the current language. */
export const provinceLabel = (p: { short: string; nameEn: string }): string => (current === 'zh' ? p.short : p.nameEn);

const VALUES_ZH: Record<string, string> = {
  submitted: '已提交', queued: '排队中', scheduled: '已调度', escalated: '已上送', confirmed: '已确认', dispatched: '已下发', running: '运行中',
  preempted: '被抢占', replaced: '已重新放置', finished: '已完成', failed: '失败', cancelled: '已取消',
  healthy: '健康', degraded: '降级', down: '故障', applied: '已申报', reviewing: '审核中', approved: '已批准', rejected: '已驳回',
  'joint-debugging': '联调中', accepted: '已验收', online: '在线', suspended: '已暂停', revoked: '已撤销', registered: '已注册', active: '活跃',
  national: '国家节点', regional: '区域节点', industry: '行业节点', node: '节点', cluster: '集群', job: '作业',
};

/** An enumerated value (job state, health, lifecycle, role) in the current language; English keeps the wire value. */
export const tv = (value: string): string => (current === 'zh' ? VALUES_ZH[value] ?? value : value);
