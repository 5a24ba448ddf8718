import type { SecurityItem } from '@cpnet/protocol';

const DJCP = 'GB/T 22239-2019 等保2.0 第三级';
const MIMA = 'GB/T 39786-2021 密码应用 第三级';

/**
 * The security items a reviewer asks about at 验收, mapped to the clauses of 等保2.0 三级 (GB/T 22239-2019) and
 * GB/T 39786-2021 (信息系统密码应用基本要求): requirement, how cpnet meets it, and the evidence in the pack. A model of
 * the mapping a real 测评 would check, not a certificate: the 测评 itself is done by an accredited body.
 */
export const SECURITY_ITEMS: readonly SecurityItem[] = [
  {
    standard: DJCP,
    clause: '8.1.4.1 身份鉴别',
    requirement: '对登录的用户进行身份标识和鉴别，身份鉴别信息具有复杂度要求并定期更换；采用两种或以上组合的鉴别技术',
    how: '节点之间以 RFC 9421 报文签名（Ed25519 或 SM2）鉴别；人员以口令（scrypt 哈希，至少 8 位）换取短时 API 令牌（60–3600 秒）',
    evidence: 'conformance: signature-required / forged / replayed checks; accounts API',
  },
  {
    standard: DJCP,
    clause: '8.1.4.1 身份鉴别（登录失败处理）',
    requirement: '具有登录失败处理功能，配置并启用结束会话、限制非法登录次数等措施',
    how: '登录失败按账号与来源地址限流（窗口内超过次数返回 429），未知账号与错误口令耗时相同',
    evidence: 'node configuration limits.login; audit entries of action token',
  },
  {
    standard: DJCP,
    clause: '8.1.4.2 访问控制',
    requirement: '对登录的用户分配账户和权限，授予管理用户所需的最小权限，实现管理用户的权限分离',
    how: '每个写操作经授权策略（casbin ABAC，默认拒绝、拒绝优先）判定；角色：运维、审核、验收、监督、专家、租户、只读',
    evidence: 'policy rules (packages/security policy-data); 403 answers name the rule',
  },
  {
    standard: DJCP,
    clause: '8.1.4.3 安全审计',
    requirement: '启用安全审计功能，审计覆盖到每个用户，对重要的用户行为和重要安全事件进行审计；对审计记录进行保护',
    how: '每个被允许的写操作记入 Merkle 审计日志，节点签名树头；任何人可验证包含证明与一致性证明',
    evidence: 'treeHead in this pack (signed tree head); GET /cpn/v1/audit',
  },
  {
    standard: DJCP,
    clause: '8.1.3.2 通信传输',
    requirement: '采用校验技术或密码技术保证通信过程中数据的完整性和保密性',
    how: '请求体以 Content-Digest（SHA-256 / SM3）覆盖并签名；节点链路可启用以 PKI 证书的 TLS',
    evidence: 'conformance: content-digest and tls checks',
  },
  {
    standard: DJCP,
    clause: '8.1.4.4 入侵防范 / 8.1.5.4 集中管控',
    requirement: '能够检测到对重要节点进行入侵的行为，并在发生严重入侵事件时提供报警；对安全事件进行集中分析',
    how: '伪造签名、重放、越权请求产生 security.alert 事件，沿层级上送，并保留至少 180 天',
    evidence: 'event log (security.alert), retention configuration',
  },
  {
    standard: DJCP,
    clause: '8.1.4.7 数据完整性 / 8.1.4.9 数据备份恢复',
    requirement: '保证重要数据在传输和存储过程中的完整性；提供重要数据的本地数据备份与恢复功能',
    how: 'SQLite 每次提交落盘（durability power-loss），启动时 integrity_check；cpnet node backup / restore',
    evidence: 'node database (integrity check at start); runtime figures',
  },
  {
    standard: MIMA,
    clause: '6.3 网络和通信安全（身份鉴别、完整性）',
    requirement: '采用密码技术对通信实体进行身份鉴别，保证通信数据的完整性',
    how: '国密配置：SM2 签名、SM3 摘要替换 Ed25519/SHA-256，接口不变；证书以 X.509 承载',
    evidence: 'certificate chain of the node (cpn:<prefix> SAN); crypto profile',
  },
  {
    standard: MIMA,
    clause: '6.4 设备和计算安全（远程管理通道、日志完整性）',
    requirement: '采用密码技术保证系统资源访问控制信息与日志记录的完整性',
    how: '审计日志为 Merkle 树，树头由节点私钥签名；API 令牌为节点签名的 JWS',
    evidence: 'treeHead in this pack',
  },
  {
    standard: MIMA,
    clause: '6.5 应用和数据安全（重要数据存储机密性）',
    requirement: '采用密码技术保证重要数据在存储过程中的机密性',
    how: '节点私钥静态加密保存（口令派生密钥，CPNET_KEY_PASSPHRASE / passphraseFile）；口令仅存 scrypt 哈希',
    evidence: 'node configuration passphraseFile; accounts store (no passwords)',
  },
  {
    standard: MIMA,
    clause: '7 密钥管理',
    requirement: '密钥的生成、存储、分发、更新、归档、撤销和销毁',
    how: '上级节点签发证书与前缀授权（JWS，含有效期）；证书轮换与吊销列表',
    evidence: 'delegation and certificate chain; revocation list',
  },
];
