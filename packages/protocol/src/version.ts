/** The protocol version every message carries (`cpn-protocol` header or `protocol` field on socket events). */
export const PROTOCOL_VERSION = '1.0';

/** The HTTP header that carries the protocol version. */
export const PROTOCOL_HEADER = 'cpn-protocol';

/** The result of comparing a peer's protocol version with ours. */
export type VersionVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Accepts any minor version of our major; refuses a different major or a malformed version with a clear reason. */
export function checkProtocolVersion(value: string | undefined | null): VersionVerdict {
  if (value === undefined || value === null || value === '') {
    return { ok: false, reason: `missing protocol version; send "${PROTOCOL_HEADER}: ${PROTOCOL_VERSION}"` };
  }
  const m = /^(\d+)\.(\d+)$/.exec(value.trim());
  if (!m) return { ok: false, reason: `protocol version "${value}" is not MAJOR.MINOR; expected ${PROTOCOL_VERSION}` };
  const ours = PROTOCOL_VERSION.split('.')[0];
  if (m[1] !== ours)
    return {
      ok: false,
      reason: `protocol major version ${m[1]} is not supported; this node speaks ${PROTOCOL_VERSION}`,
    };
  return { ok: true };
}
