/** The protocol version every message carries (`cpn-protocol` header or `protocol` field on socket events). */
export const PROTOCOL_VERSION = '1.0';

/** The HTTP header that carries the protocol version. */
export const PROTOCOL_HEADER = 'cpn-protocol';

/**
 * How many minor versions apart two peers may be (N±1, as Kubernetes allows between its components): a node speaking
 * 1.m talks to peers speaking 1.(m-1), 1.m and 1.(m+1), and refuses the rest.
 */
export const MINOR_SKEW = 1;

/** The version-skew policy in one sentence (the OpenAPI document and docs/errors.md quote it). */
export const VERSION_SKEW =
  `A node speaking ${PROTOCOL_VERSION} accepts a \`${PROTOCOL_HEADER}\` of the same major version at most ${MINOR_SKEW} ` +
  'minor version apart (N±1); a different major, a minor further apart, or a value that is not MAJOR.MINOR is 400 ' +
  '`UNSUPPORTED_VERSION` before anything else is checked. A request without the header is read as this node’s ' +
  'version on reads and anonymous logins; a signed or token-carrying write without it is 400 `UNSUPPORTED_VERSION` ' +
  'once its signature verifies and before its nonce is spent. The newer peer of a pair sends only what the older one ' +
  'understands (the older one’s schemas are strict).';

/** The result of comparing a peer's protocol version with ours. */
export type VersionVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Accepts our major version within `MINOR_SKEW` minor versions of ours; refuses a missing value, a different major, a
 * minor further apart or a malformed version, with a clear reason.
 */
export function checkProtocolVersion(
  value: string | undefined | null,
  ours: string = PROTOCOL_VERSION,
): VersionVerdict {
  if (value === undefined || value === null || value === '') {
    return { ok: false, reason: `missing protocol version; send "${PROTOCOL_HEADER}: ${ours}"` };
  }
  const m = /^(\d+)\.(\d+)$/.exec(value.trim());
  if (!m) return { ok: false, reason: `protocol version "${value}" is not MAJOR.MINOR; expected ${ours}` };
  const [major, minor] = ours.split('.').map(Number) as [number, number];
  if (Number(m[1]) !== major)
    return { ok: false, reason: `protocol major version ${m[1]} is not supported; this node speaks ${ours}` };
  if (Math.abs(Number(m[2]) - minor) > MINOR_SKEW)
    return {
      ok: false,
      reason:
        `protocol version ${m[1]}.${m[2]} is more than ${MINOR_SKEW} minor version from ${ours}; this node talks to ` +
        `${major}.${Math.max(0, minor - MINOR_SKEW)}–${major}.${minor + MINOR_SKEW}`,
    };
  return { ok: true };
}

/**
 * What this implementation does beyond the first 1.0 release, advertised as `ext.capabilities` in NodeInfo and in both
 * messages of the joint-debugging handshake (POST /cpn/v1/joint-debug and its answer). `ext` is open in every 1.x
 * schema, so a peer one minor apart learns them without a schema change; a peer that advertises nothing is taken to
 * have none of them.
 */
export const CAPABILITIES = [
  'joint-debug-request',
  'audit-proofs',
  'refusal-detail',
  'subtree-snapshot',
  'check-list-1.1',
  // The one summary upward: a child sends its scheduling figures in `ext.scheduling` of its SubtreeSummary, directly
  // every scheduling interval, and the parent takes it as the child's heartbeat and answers `ext.ceiling`.
  'one-summary',
  // Gateway reports carry only what changed: a node that advertises it in its gateway session takes `ext.unchanged`
  // (the clusters whose last acknowledged entry still holds) in a CapacityReport.
  'report-unchanged',
] as const;
/** One advertised capability. */
export type Capability = (typeof CAPABILITIES)[number];

/** The capabilities a message advertises in `ext.capabilities` (names kept as sent; anything malformed is none). */
export function capabilitiesOf(message: unknown): string[] {
  const ext = (message as { ext?: unknown } | null | undefined)?.ext;
  const list = (ext as { capabilities?: unknown } | null | undefined)?.capabilities;
  if (!Array.isArray(list)) return [];
  return list.filter((c): c is string => typeof c === 'string' && c.length > 0 && c.length <= 64).slice(0, 64);
}

/** Whether a message advertises one of the capabilities this version knows (typed: a misspelt name does not compile). */
export function hasCapability(message: unknown, capability: Capability): boolean {
  return capabilitiesOf(message).includes(capability);
}

/** What two peers can both use: ours that the other advertised, in our order. */
export function commonCapabilities(ours: readonly string[], theirs: readonly string[]): string[] {
  return ours.filter((c) => theirs.includes(c));
}
