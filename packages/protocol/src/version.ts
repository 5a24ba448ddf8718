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
