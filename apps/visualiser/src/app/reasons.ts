import { lang } from './i18n.ts';

/**
 * Reasons and causes as the nodes write them (English, fixed patterns), in Chinese. A text no pattern matches is
 * returned as sent and marked (`wire`) so that the page says it is the node's wording.
 */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/^ranked (\d+): score ([\d.]+)\/10, est\. ([\d.]+) 元$/, '排名第 $1：得分 $2/10，预计 $3 元'],
  [/^ranked (\d+) \(score ([\d.]+)\)$/, '排名第 $1（得分 $2）'],
  [/^no clusters registered here$/, '此处未注册集群'],
  [/^gateway refused on (\S+): (.*)$/, '$1 的网关拒绝：$2'],
  [/^gateway refused: (.*)$/, '网关拒绝：$1'],
  [/^unreachable$/, '不可达'],
  [/^latency-tolerant \(东数西算\)$/, '可容忍时延（东数西算）'],
  [/^(\S+) started$/, '$1 已启动'],
  [/^(\S+) connected again$/, '$1 重新连接'],
  [/^(\S+) connected$/, '$1 已连接'],
  [/^(\S+) stopped answering pings$/, '$1 不再响应探测'],
  [/^the link from (\S+) dropped(.*)$/, '来自 $1 的链路断开$2'],
  [/^node (\S+) stopped reporting$/, '节点 $1 停止上报'],
  [/^cluster (\S+) stopped reporting$/, '集群 $1 停止上报'],
  [/^no summary from (\S+) for (\d+) ms$/, '$2 毫秒未收到 $1 的汇总'],
  [/^(\S+) sends its summary again$/, '$1 恢复发送汇总'],
  // As nodes before the one summary upward wrote them (recordings keep them).
  [/^no scheduling summary from (\S+) for (\d+) ms$/, '$2 毫秒未收到 $1 的调度摘要'],
  [/^(\S+) sends its scheduling summary again$/, '$1 恢复发送调度摘要'],
  [/^the gateway of (\S+) reports (\S+) (healthy|degraded|down)$/, '$1 的网关报告 $2 $3'],
  [/^(\d+) clusters$/, '$1 个集群'],
  [/^the signature does not verify$/, '签名验证失败'],
  [/^nonce already seen for (\S+)$/, '$1 的随机数已被使用（重放）'],
];
const WORDS: Readonly<Record<string, string>> = { healthy: '健康', degraded: '降级', down: '故障' };

/** A node's reason text in the current language; `wire` when it is shown as the node sent it. */
export function reasonText(text: string): { text: string; wire: boolean } {
  if (lang() === 'en') return { text, wire: false };
  for (const [re, zh] of PATTERNS)
    if (re.test(text))
      return { text: text.replace(re, zh).replace(/healthy|degraded|down/g, (w) => WORDS[w]!), wire: false };
  return { text, wire: /[A-Za-z]{3,}/.test(text.replace(/\b(?:CPN|JB|CL|PV)[\w./-]*/g, '')) };
}
